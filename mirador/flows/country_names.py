"""Country names as published migration files write them, resolved to ISO 3166-1 alpha-2 codes.

Every importer of the observatory goes through this module, so that "Mexico", "México", "MEX",
"Korea, Republic of", "Republic of Korea" and "Bolivia (Plurinational State of)" all land on one
code, and so that values that are not a single country ("Other", "Unknown", "Mixed", regions
such as "Central America" and aggregates such as "WORLD") are told apart from names nobody has
seen yet: the first are expected and named in the alias table, the second are an import error.

Sources, in order of precedence:
1. the alias table `flows/data/country_aliases.csv` (alias, alpha2, note): names the published
   files use that pycountry does not know, and, with an empty alpha2, the known non-country
   values;
2. pycountry's English names (ISO short name, official name, common name);
3. the same names in pycountry's Spanish catalogue ("iso3166-1");
4. ISO alpha-2 and alpha-3 codes.

Names are compared after normalisation: case, accents, apostrophes and punctuation, the word
"the", a few abbreviations ("Dem.", "Fed.", "St.") and whitespace do not matter, and inverted
forms ("Korea, Republic of", "Iran (Islamic Republic of)") also match their natural order.

Pure Python, no database: results are cached per distinct input, so a streaming importer pays
for each distinct cell value once.
"""

from __future__ import annotations

import csv
import gettext
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path

import pycountry

ALIASES_CSV = Path(__file__).resolve().parent / "data" / "country_aliases.csv"
ALIAS_COLUMNS = ("alias", "alpha2", "note")

# Abbreviations the UN and national tables use inside country names ("Dem. People's Republic
# of Korea", "Micronesia (Fed. States of)", "St. Lucia").
_ABBREVIATIONS = {
    "dem": "democratic",
    "fed": "federated",
    "rep": "republic",
    "st": "saint",
    "sts": "states",
}
# Separators of a cell that names several countries. A comma also occurs inside ISO names
# ("Korea, Republic of"), which split_country_list puts back together.
_LIST_SEPARATORS = re.compile(r"[,;]")
# A list item is rejoined with at most this many following comma-separated pieces
# ("Congo, The Democratic Republic of the" is two pieces).
_MAX_PIECES_PER_NAME = 3


class Match(StrEnum):
    """How a name was resolved."""

    ALIAS = "alias"  # the alias table gave the code
    NAME = "name"  # a pycountry English name (short, official or common)
    SPANISH = "spanish"  # a pycountry Spanish name
    CODE = "code"  # an ISO alpha-2 or alpha-3 code
    NON_COUNTRY = "non-country"  # a known value that is not one country (alias with no code)
    AMBIGUOUS = "ambiguous"  # a name two countries share after normalisation
    EMPTY = "empty"  # an empty or blank cell
    UNKNOWN = "unknown"  # nothing matched: an import should report it


@dataclass(frozen=True, slots=True)
class CountryResolution:
    """The outcome of resolving one name: `alpha2` is set only for a single country."""

    name: str
    alpha2: str | None
    match: Match
    note: str = ""

    @property
    def is_country(self) -> bool:
        return self.alpha2 is not None

    @property
    def is_known(self) -> bool:
        """True for a country and for a known non-country value; False for an unknown name."""
        return self.match not in (Match.UNKNOWN, Match.AMBIGUOUS, Match.EMPTY)


class CountryAliasError(ValueError):
    """The alias table is malformed (a programming error in the shipped data, not user input)."""


# ---------------------------------------------------------------------------------------------
# Normalisation


def normalise_country_name(name: str) -> str:
    """The comparison key of a name: "Côte d'Ivoire" → "cote divoire", "The Gambia" → "gambia",
    "Dem. People's Republic of Korea" → "democratic peoples republic of korea"."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    text = text.replace("&", " and ")
    # Apostrophes and full stops join what they separate ("People's", "U.S.", "Dem."); every
    # other punctuation mark separates words.
    text = re.sub(r"['’‘`´.]", "", text)
    text = re.sub(r"[\W_]+", " ", text)
    words = [_ABBREVIATIONS.get(word, word) for word in text.split() if word != "the"]
    return " ".join(words)


def _natural_order(name: str) -> str | None:
    """The natural order of an inverted name, or None when the name is not inverted:
    "Korea, Republic of" → "Republic of Korea", "Iran (Islamic Republic of)" → "Islamic
    Republic of Iran", "China, Peoples Republic Of" → "Peoples Republic Of China"."""
    stripped = name.strip()
    parenthesised = re.fullmatch(r"(.+?)\s*\((.+)\)", stripped)
    if parenthesised:
        return f"{parenthesised.group(2)} {parenthesised.group(1)}"
    head, comma, tail = stripped.partition(",")
    if comma and head.strip() and tail.strip():
        return f"{tail.strip()} {head.strip()}"
    return None


def _keys(name: str) -> Iterator[str]:
    """The comparison keys of a name: as written, then in natural order if inverted."""
    key = normalise_country_name(name)
    if key:
        yield key
    natural = _natural_order(name)
    if natural is not None:
        natural_key = normalise_country_name(natural)
        if natural_key and natural_key != key:
            yield natural_key


# ---------------------------------------------------------------------------------------------
# The index


@dataclass(frozen=True, slots=True)
class _Entry:
    alpha2: str | None
    match: Match
    note: str = ""


@dataclass(frozen=True, slots=True)
class AliasRow:
    alias: str
    alpha2: str
    note: str
    line: int


def read_alias_table(path: Path = ALIASES_CSV) -> list[AliasRow]:
    """The rows of the alias table; lines starting with "#" are comments."""
    with path.open(encoding="utf-8", newline="") as csv_file:
        lines = [
            (number, line)
            for number, line in enumerate(csv_file, start=1)
            if not line.lstrip().startswith("#")
        ]
    reader = csv.reader(line for _number, line in lines)
    header = next(reader, None)
    if header is None or tuple(column.strip() for column in header) != ALIAS_COLUMNS:
        raise CountryAliasError(f"{path.name}: the header must be {','.join(ALIAS_COLUMNS)}")
    rows = []
    for (number, _line), values in zip(lines[1:], reader, strict=True):
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(ALIAS_COLUMNS):
            raise CountryAliasError(
                f"{path.name}, line {number}: {len(values)} columns, expected {len(ALIAS_COLUMNS)}"
            )
        alias, alpha2, note = (value.strip() for value in values)
        if alpha2 and pycountry.countries.get(alpha_2=alpha2) is None:
            raise CountryAliasError(
                f"{path.name}, line {number}: {alpha2!r} is not an ISO 3166-1 alpha-2 code"
            )
        rows.append(AliasRow(alias=alias, alpha2=alpha2, note=note, line=number))
    return rows


def _spanish_translator() -> gettext.NullTranslations:
    path = gettext.find("iso3166-1", pycountry.LOCALES_DIR, languages=["es"])
    if path is None:
        raise FileNotFoundError(
            f"pycountry has no Spanish catalogue 'iso3166-1' in {pycountry.LOCALES_DIR}: "
            "reinstall pycountry."
        )
    with open(path, "rb") as catalogue_file:
        return gettext.GNUTranslations(catalogue_file)


def _english_names(country: object) -> list[str]:
    names = [getattr(country, field, None) for field in ("name", "official_name", "common_name")]
    return [name for name in names if name]


def _pycountry_levels() -> list[tuple[Match, list[tuple[str, str | None, str]]]]:
    """pycountry's English names, then their Spanish translations, as (name, alpha2, note)."""
    spanish = _spanish_translator()
    english: list[tuple[str, str | None, str]] = [
        (name, country.alpha_2, "")
        for country in pycountry.countries
        for name in _english_names(country)
    ]
    return [
        (Match.NAME, english),
        (Match.SPANISH, [(spanish.gettext(name), alpha2, note) for name, alpha2, note in english]),
    ]


@dataclass(frozen=True, slots=True)
class _Index:
    entries: dict[str, _Entry]
    codes: dict[str, str]


@cache
def _index() -> _Index:
    """Every known name key with its entry; built once per process."""
    levels: list[tuple[Match, list[tuple[str, str | None, str]]]] = [
        (Match.ALIAS, [(row.alias, row.alpha2 or None, row.note) for row in read_alias_table()]),
        *_pycountry_levels(),
    ]
    entries: dict[str, _Entry] = {}
    for match, names in levels:
        claimed: dict[str, set[str | None]] = {}
        notes: dict[str, str] = {}
        for name, alpha2, note in names:
            for key in _keys(name):
                if key in entries:
                    continue  # a higher level has it
                claimed.setdefault(key, set()).add(alpha2)
                notes.setdefault(key, note)
        for key, candidates in claimed.items():
            if len(candidates) == 1:
                (alpha2,) = candidates
                entry_match = Match.NON_COUNTRY if alpha2 is None else match
                entries[key] = _Entry(alpha2=alpha2, match=entry_match, note=notes[key])
            elif match is Match.ALIAS:
                raise CountryAliasError(
                    f"{ALIASES_CSV.name}: names matching {key!r} give different codes: "
                    + ", ".join(sorted(code or "(none)" for code in candidates))
                )
            else:
                entries[key] = _Entry(
                    alpha2=None,
                    match=Match.AMBIGUOUS,
                    note="; ".join(sorted(code or "not a country" for code in candidates)),
                )
    codes = {
        code.casefold(): country.alpha_2
        for country in pycountry.countries
        for code in (country.alpha_2, country.alpha_3)
    }
    return _Index(entries=entries, codes=codes)


# ---------------------------------------------------------------------------------------------
# Resolving


@lru_cache(maxsize=65536)
def resolve_country_detail(name: str) -> CountryResolution:
    """Resolve one country name, saying how it matched (see `Match`)."""
    if not name or not name.strip():
        return CountryResolution(name=name, alpha2=None, match=Match.EMPTY)
    index = _index()
    for key in _keys(name):
        entry = index.entries.get(key)
        if entry is not None:
            return CountryResolution(
                name=name, alpha2=entry.alpha2, match=entry.match, note=entry.note
            )
    code = index.codes.get(name.strip().casefold())
    if code is not None:
        return CountryResolution(name=name, alpha2=code, match=Match.CODE)
    return CountryResolution(name=name, alpha2=None, match=Match.UNKNOWN)


def resolve_country(name: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country name, or None when the name is not a single
    country ("Other", "Unknown", "Central America") or is unknown. Tell those two apart with
    `resolve_country_detail(name).is_known` or `is_non_country(name)`."""
    return resolve_country_detail(name).alpha2


def is_non_country(name: str) -> bool:
    """True for a value the alias table lists as not a single country: unknown or mixed
    origin ("Unknown", "Mixed"), catch-all groupings ("Other"), regions ("Central America",
    "Horn of Africa") and statistical aggregates ("WORLD", "Sub-Saharan Africa")."""
    return resolve_country_detail(name).match is Match.NON_COUNTRY


# The name the import engine was told to expect: aggregates are one kind of non-country value.
is_aggregate_name = is_non_country


def known_non_country_names() -> list[str]:
    """The alias table's non-country values, as written there."""
    return [row.alias for row in read_alias_table() if not row.alpha2]


# ---------------------------------------------------------------------------------------------
# Cells that name several countries


def split_country_list(text: str) -> list[str]:
    """The names in a cell that lists several countries, in order, as written:
    "Guatemala, Honduras, El Salvador" → three names; "Korea, Republic of,Mexico" →
    ["Korea, Republic of", "Mexico"]. Commas inside a known name keep it whole (the longest
    known run of comma-separated pieces wins, unless each piece is a name on its own:
    "Mixed,Unknown" is two values); ";" also separates; an unknown piece with "/"
    is split there when every part is known ("Guatemala/Honduras"), while a known one stays
    whole ("Mixed/Unknown"). Unknown pieces are kept as written for the caller to report.
    Only for columns that hold lists: a single-country column goes to `resolve_country`."""
    pieces = [piece.strip() for piece in _LIST_SEPARATORS.split(text or "")]
    names: list[str] = []
    position = 0
    while position < len(pieces):
        piece = pieces[position]
        if not piece:
            position += 1
            continue
        longest = min(len(pieces), position + _MAX_PIECES_PER_NAME)
        for end in range(longest, position + 1, -1):
            run = pieces[position:end]
            joined = ", ".join(run)
            # A run is one name only when its pieces are not each a name already:
            # "Korea, Republic of" is one, "Mixed, Unknown" is two.
            if (
                all(run)
                and resolve_country_detail(joined).is_known
                and not all(resolve_country_detail(piece).is_known for piece in run)
            ):
                names.append(joined)
                position = end
                break
        else:
            names.extend(_split_on_slash(piece))
            position += 1
    return names


def _split_on_slash(piece: str) -> list[str]:
    if "/" not in piece or resolve_country_detail(piece).is_known:
        return [piece]
    parts = [part.strip() for part in piece.split("/") if part.strip()]
    if parts and all(resolve_country_detail(part).is_known for part in parts):
        return parts
    return [piece]


def resolve_country_list(text: str) -> list[CountryResolution]:
    """`split_country_list` then `resolve_country_detail` on each name."""
    return [resolve_country_detail(name) for name in split_country_list(text)]
