"""The record-linkage engine: normalise person records, train a Splink model on them, score
candidate pairs and cluster them. Plain functions on pandas DataFrames (DuckDB underneath), no
Django, so that the `mirador link` command, the benchmarks and, later, background tasks share
them.

Input columns (`INPUT_COLUMNS`): `record_id` (required, unique), `source`, `given_names`,
`first_surname`, `second_surname`, `birth_year`, `birth_month`, `birth_day` (each may be missing:
a date known only in part), or instead one `birth_date` column ("1998", "1998-03",
"1998-03-07", "07/03/1998"), `sex`, `document_number`, `place`. Other columns named in
`extra_columns` are compared too (free text: exact, one edit, Jaro-Winkler). At least one of
`given_names` and `first_surname` must be present.

How names of the region are handled (see docs/linkage.md): two surnames, compared as a pair
(both equal; swapped; one dropped on one side, either the first or the second; the first equal;
any in common; spelling variants by Jaro-Winkler and Damerau-Levenshtein); compound given names
matched on any part; nicknames mapped to the name (data/nicknames_es.csv); accents, case and
punctuation folded; day and month of birth swapped; partial dates compatible.

The model's m probabilities come from expectation maximisation over several blocking rules and
its u probabilities from random sampling: no hand-set weights. A trained model is Splink's JSON
settings (`LinkageOutcome.model`), which `dedupe`/`link` accept back to score without training.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import logging
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

RECORD_ID = "record_id"
SOURCE = "source"
INPUT_COLUMNS = (
    RECORD_ID,
    SOURCE,
    "given_names",
    "first_surname",
    "second_surname",
    "birth_year",
    "birth_month",
    "birth_day",
    "birth_date",
    "sex",
    "document_number",
    "place",
)
NAME_COLUMNS = ("given_names", "first_surname")
DEFAULT_THRESHOLD = 0.9
ENGINE_VERSION = 1
# The least m probability a level keeps after training (see `smooth`).
M_FLOOR = 0.001
# Pairs of random records that estimate the u probabilities.
U_SAMPLE_PAIRS = float(os.environ.get("MIRADOR_LINKAGE_U_PAIRS", "1e6"))

NICKNAMES_CSV = Path(__file__).resolve().parent / "data" / "nicknames_es.csv"
# Particles that join a name's words and carry no identity of their own ("María de los
# Ángeles", "De León", "Del Cid").
PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "e", "san"} - {"san"})
SEX_CODES = {
    "f": "f",
    "female": "f",
    "femenino": "f",
    "mujer": "f",
    "m": "m",
    "male": "m",
    "masculino": "m",
    "hombre": "m",
    "h": "m",
}
# Bytes of memory a blocked pair may take while Splink scores it (the pair's two ids, its
# comparison columns and intermediate results in DuckDB), measured generously on FEBRL runs.
BYTES_PER_PAIR = 400
# Blocking fitted to the data (ModelDesign.fitted): a rule whose own pairs exceed this many
# per record, and this floor, gives way to its tighter variant.
RULE_PAIRS_PER_RECORD = 10
RULE_PAIRS_FLOOR = 2_000_000
# Beyond this many records, the model is trained on a random sample of them.
TRAIN_RECORDS = int(os.environ.get("MIRADOR_LINKAGE_TRAIN_RECORDS", "200000"))
TRAIN_SEED = 42

logger = logging.getLogger(__name__)


# --- Errors --------------------------------------------------------------------------------------


class LinkageError(Exception):
    """A failure the caller can act on. `code` and `params` let a caller word the message in
    the user's language; `str()` gives an English sentence."""

    code = "linkage_error"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.params = params


class InputError(LinkageError):
    """Bad input: `params` may name the `row` (1-based, as in the file after its header),
    `column` and `value`."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.code = code


class TooManyPairsError(LinkageError):
    """The blocking rules would produce more candidate pairs than memory allows."""

    code = "too_many_pairs"

    def __init__(self, projected: int, limit: int) -> None:
        super().__init__(
            f"The blocking rules would produce about {projected:,} candidate pairs, more than "
            f"the limit of {limit:,} (MIRADOR_LINKAGE_MAX_PAIRS).",
            projected=projected,
            limit=limit,
        )
        self.projected = projected
        self.limit = limit


def default_max_pairs() -> int:
    """MIRADOR_LINKAGE_MAX_PAIRS, or as many pairs as half of this machine's memory holds."""
    configured = os.environ.get("MIRADOR_LINKAGE_MAX_PAIRS", "").strip().replace("_", "")
    if configured:
        return int(float(configured))
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 8 * 2**30
    return int(memory // 2 // BYTES_PER_PAIR)


# --- Normalisation -------------------------------------------------------------------------------


@functools.cache
def nicknames() -> dict[str, str]:
    """Nickname (hipocorístico) → the given name it stands for, normalised."""
    with NICKNAMES_CSV.open(encoding="utf-8") as handle:
        return {
            fold(row["nickname"]): fold(row["name"])
            for row in csv.DictReader(handle)
            if row["nickname"].strip()
        }


def fold(text: str) -> str:
    """One value folded as the engine compares it (see `normalise_text`)."""
    return str(normalise_text(pd.Series([text], dtype="object")).iloc[0] or "")


def _on_distinct(function: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    """Apply a Series → Series function to the distinct values only, then spread the results
    back: registries repeat names, and a million records hold a few tens of thousands."""

    @functools.wraps(function)
    def wrapper(values: pd.Series) -> pd.Series:
        codes, distinct = pd.factorize(values.astype("string"), use_na_sentinel=True)
        if len(distinct) == 0:
            return pd.Series(pd.NA, index=values.index, dtype="string")
        mapped = function(pd.Series(distinct, dtype="string")).astype("string").array
        result = mapped.take(codes, allow_fill=True)
        return pd.Series(result, index=values.index, dtype="string")

    return wrapper


@_on_distinct
def normalise_text(values: pd.Series) -> pd.Series:
    """Lower case, accents folded (Á→a, ñ→n, ü→u), punctuation to spaces, spaces collapsed;
    empty → missing."""
    text = values.astype("string").str.normalize("NFKD").str.lower()
    text = text.str.replace(r"[\u0300-\u036f]", "", regex=True)
    text = text.str.replace(r"[^0-9a-z]+", " ", regex=True).str.strip()
    return text.mask(text == "", pd.NA)


def _drop_particles(tokens: list[str]) -> list[str]:
    kept = [token for token in tokens if token not in PARTICLES]
    return kept or tokens


@_on_distinct
def normalise_given_names(values: pd.Series) -> pd.Series:
    """Folded given names, particles dropped, each part mapped through the nickname list:
    "Ma. de los Ángeles" → "maria angeles", "Chepe Luis" → "jose luis"."""
    names = nicknames()
    folded = normalise_text(values)

    def one(value: Any) -> Any:
        if value is pd.NA or value is None:
            return pd.NA
        tokens: list[str] = []
        for token in _drop_particles(value.split()):
            tokens.extend(names.get(token, token).split())
        return " ".join(tokens) or pd.NA

    return folded.map(one, na_action="ignore").astype("string")


@_on_distinct
def normalise_surname(values: pd.Series) -> pd.Series:
    """Folded surname with leading particles dropped and the words joined: "De León" → "leon",
    "De la Cruz" → "cruz", "San Martín" → "sanmartin"."""
    folded = normalise_text(values)
    folded = folded.str.replace(r"^((de|del|la|las|los|y)\s+)+(?=\S)", "", regex=True)
    folded = folded.str.replace(" ", "", regex=False)
    return folded.mask(folded == "", pd.NA)


# Spanish spelling to sound, for blocking only (comparisons use the written form): letters
# that sound alike in Central American Spanish share one key (b/v, s/z/c before e and i, y/ll,
# silent h, k/qu/c, j/g before e and i, doubled letters).
_PHONETIC_RULES = (
    (r"h(?<!ch)", ""),
    (r"qu(?=[ei])", "k"),
    (r"gu(?=[ei])", "g"),
    (r"g(?=[ei])", "j"),
    (r"c(?=[ei])", "s"),
    (r"z", "s"),
    (r"c(?!h)", "k"),
    (r"q", "k"),
    (r"v", "b"),
    (r"w", "b"),
    (r"ll", "y"),
    (r"y$", "i"),
    (r"x", "j"),
    (r"([a-z])\1+", r"\1"),
)


@_on_distinct
def phonetic_key(values: pd.Series) -> pd.Series:
    key = values.astype("string")
    for pattern, replacement in _PHONETIC_RULES:
        key = key.str.replace(pattern, replacement, regex=True)
    return key.mask(key == "", pd.NA)


@_on_distinct
def _without_particles(values: pd.Series) -> pd.Series:
    return values.str.replace(r"^((de|del|la|las|los|y)\s+)+(?=\S)", "", regex=True)


@_on_distinct
def _is_two_words(values: pd.Series) -> pd.Series:
    return values.str.fullmatch(r"[a-z0-9]+ [a-z0-9]+").map({True: "1", False: "0"})


def _word(values: pd.Series, index: int) -> pd.Series:
    return _on_distinct(lambda distinct: distinct.str.split(" ").str[index])(values)


@_on_distinct
def _document(values: pd.Series) -> pd.Series:
    document = values.str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
    return document.mask(document == "", pd.NA)


_DATE_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})(?:[-/.](?P<m>\d{1,2})(?:[-/.](?P<d>\d{1,2}))?)?$"),
    re.compile(r"^(?P<d>\d{1,2})[-/.](?P<m>\d{1,2})[-/.](?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),
)


def _parse_birth_date(value: str) -> tuple[int, int | None, int | None] | None:
    text = value.strip()
    text = re.sub(r"[T ]00:00(:00)?$", "", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            parts = match.groupdict()
            return (
                int(parts["y"]),
                int(parts["m"]) if parts.get("m") else None,
                int(parts["d"]) if parts.get("d") else None,
            )
    return None


def _integer_column(frame: pd.DataFrame, column: str, low: int, high: int) -> pd.Series:
    raw = frame[column]
    if pd.api.types.is_integer_dtype(raw.dtype):
        numbers = raw.astype("Float64")
        text = raw.astype("string")
    else:
        text = _on_distinct(lambda distinct: distinct.str.strip())(raw)
        text = text.mask(text == "", pd.NA)
        codes, distinct = pd.factorize(text, use_na_sentinel=True)
        converted = pd.to_numeric(pd.Series(distinct, dtype="object"), errors="coerce")
        numbers = pd.Series(
            pd.array(converted, dtype="Float64").take(codes, allow_fill=True), index=raw.index
        )
    numbers = numbers.astype("Float64")
    bad = text.notna() & (numbers.isna() | (numbers % 1 != 0) | (numbers < low) | (numbers > high))
    bad = bad.fillna(True)
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            "bad_date",
            f"row {position + 1}, column {column}: “{text.iloc[position]}” is not a "
            f"number from {low} to {high}",
            row=position + 1,
            column=column,
            value=str(text.iloc[position]),
        )
    return numbers.astype("Int64")


def _birth_parts(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    if "birth_date" in frame.columns and not {"birth_year"} & set(frame.columns):
        text = frame["birth_date"].astype("string").str.strip()
        codes, distinct = pd.factorize(text.mask(text == "", pd.NA), use_na_sentinel=True)
        parsed: list[tuple[int | None, int | None, int | None]] = []
        for index, value in enumerate(distinct):
            parts_of = _parse_birth_date(str(value))
            if parts_of is None:
                position = int(np.flatnonzero(codes == index)[0])
                raise InputError(
                    "bad_date",
                    f"row {position + 1}, column birth_date: “{value}” is not a date "
                    "(YYYY, YYYY-MM, YYYY-MM-DD or DD/MM/YYYY)",
                    row=position + 1,
                    column="birth_date",
                    value=str(value),
                )
            parsed.append(parts_of)
        table = pd.DataFrame(
            parsed + [(None, None, None)],
            columns=["birth_year", "birth_month", "birth_day"],
            dtype="object",
        )
        # Missing dates (code -1) take the last row, all empty.
        parts = table.iloc[np.where(codes < 0, len(parsed), codes)].reset_index(drop=True)
        parts.index = frame.index
        frame = parts
    empty = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    year = _integer_column(frame, "birth_year", 1880, 2100) if "birth_year" in frame else empty
    month = _integer_column(frame, "birth_month", 1, 12) if "birth_month" in frame else empty
    day = _integer_column(frame, "birth_day", 1, 31) if "birth_day" in frame else empty
    return year, month, day


def prepare(
    records: pd.DataFrame, *, extra_columns: Sequence[str] = (), source: str = ""
) -> pd.DataFrame:
    """Check and normalise input records into the columns the model compares. Raises
    InputError naming the row and column of the first problem; drops no row."""
    if len(records) == 0:
        raise InputError("empty", "there are no records")
    columns = set(records.columns)
    if RECORD_ID not in columns:
        raise InputError("missing_column", "the column record_id is missing", column=RECORD_ID)
    if not columns & set(NAME_COLUMNS):
        raise InputError(
            "missing_column",
            "there is neither a given_names nor a first_surname column",
            column="given_names",
        )
    for extra in extra_columns:
        if extra not in columns:
            raise InputError("missing_column", f"the column {extra} is missing", column=extra)
    ids = records[RECORD_ID].astype("string").str.strip()
    missing = ids.isna() | (ids == "")
    if missing.any():
        position = int(np.flatnonzero(missing.to_numpy())[0])
        raise InputError(
            "missing_id",
            f"row {position + 1}, column record_id: the record has no id",
            row=position + 1,
            column=RECORD_ID,
        )
    duplicated = ids.duplicated()
    if duplicated.any():
        position = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(
            "duplicate_id",
            f"row {position + 1}, column record_id: the id “{ids.iloc[position]}” is used by "
            "an earlier row",
            row=position + 1,
            column=RECORD_ID,
            value=str(ids.iloc[position]),
        )

    def text_column(name: str) -> pd.Series:
        if name in columns:
            return records[name].astype("string")
        return pd.Series(pd.NA, index=records.index, dtype="string")

    out = pd.DataFrame(index=records.index)
    out[RECORD_ID] = ids
    out[SOURCE] = (
        text_column(SOURCE).fillna(source).astype("string") if SOURCE in columns else source
    )
    out[SOURCE] = out[SOURCE].astype("string")
    given = normalise_given_names(text_column("given_names"))
    first = normalise_surname(text_column("first_surname"))
    second = normalise_surname(text_column("second_surname"))
    # Both surnames written in the first field ("Hernández López"), common in records from the
    # United States: split them when the second field is empty.
    raw_first = _without_particles(normalise_text(text_column("first_surname")))
    two_words = (_is_two_words(raw_first) == "1").fillna(False).astype(bool)
    split = two_words & second.isna()
    if split.any():
        parts = raw_first[split].str.split(" ", n=1, expand=True)
        first = first.copy()
        second = second.copy()
        first[split] = parts[0].astype("string")
        second[split] = parts[1].astype("string")
    out["given_names"] = given
    out["given_1"] = _word(given, 0)
    out["given_2"] = _word(given, 1)
    out["first_surname"] = first
    out["second_surname"] = second
    out["surnames"] = first.where(second.isna(), first + " " + second)
    out["given_1_ph"] = phonetic_key(out["given_1"])
    out["first_surname_ph"] = phonetic_key(first)
    out["second_surname_ph"] = phonetic_key(second)
    out["surnames_ph"] = out["first_surname_ph"].where(
        out["second_surname_ph"].isna(), out["first_surname_ph"] + " " + out["second_surname_ph"]
    )
    year, month, day = _birth_parts(records)
    out["birth_year"] = year.array
    out["birth_month"] = month.array
    out["birth_day"] = day.array
    full = year.notna() & month.notna() & day.notna()
    # YYYYMMDD, compared digit by digit (years from 1880 have four digits).
    text = (year * 10000 + month * 100 + day).astype("string")
    out["birth_date_text"] = text.where(full, pd.NA).astype("string").array
    sex = normalise_text(text_column("sex")).map(SEX_CODES.get, na_action="ignore")
    out["sex"] = sex.astype("string")
    out["document_number"] = _document(text_column("document_number"))
    out["place"] = normalise_text(text_column("place"))
    for extra in extra_columns:
        out[f"x_{extra}"] = normalise_text(records[extra].astype("string"))
    return out.reset_index(drop=True)


# --- The model's design --------------------------------------------------------------------------


def _jw(column: str, threshold: float) -> str:
    return f"jaro_winkler_similarity({column}_l, {column}_r) >= {threshold}"


def _level(sql: str, label: str, *, null: bool = False, tf: str | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
        if sql != f"{tf}_l = {tf}_r":
            # Not the column's own exact level: adjust from this level's own u probability.
            level["disable_tf_exact_match_detection"] = True
    return level


def _else() -> dict[str, Any]:
    return _level("ELSE", "All other comparisons")


# A given name written as the surname and the surname as the given name (a form read the
# wrong way round, "LÓPEZ, JUAN"), spelling variants allowed.
NAMES_SWAPPED = (
    "jaro_winkler_similarity(given_1_l, first_surname_r) >= 0.9 "
    "AND jaro_winkler_similarity(first_surname_l, given_1_r) >= 0.9"
)


def given_names_comparison() -> dict[str, Any]:
    return {
        "output_column_name": "given_names",
        "comparison_description": "Given names: whole, first name, any part, spelling",
        "comparison_levels": [
            _level("given_names_l IS NULL OR given_names_r IS NULL", "Null", null=True),
            _level("given_names_l = given_names_r", "All given names equal", tf="given_names"),
            _level("given_1_l = given_1_r", "First given name equal", tf="given_1"),
            _level(NAMES_SWAPPED, "Given name and surname swapped"),
            _level(
                f"{_jw('given_names', 0.92)} OR levenshtein(given_1_l, given_1_r) <= 1",
                "Spelling variant (Jaro-Winkler >= 0.92 or one edit)",
            ),
            _level(
                "given_1_l = given_2_r OR given_2_l = given_1_r OR given_2_l = given_2_r",
                "A part of a compound name in common",
            ),
            _level(
                f"{_jw('given_1', 0.8)} OR {_jw('given_names', 0.85)}",
                "Similar (Jaro-Winkler >= 0.8)",
            ),
            _else(),
        ],
    }


def surnames_comparison() -> dict[str, Any]:
    first_close = (
        "(jaro_winkler_similarity(first_surname_l, first_surname_r) >= 0.9 "
        "OR levenshtein(first_surname_l, first_surname_r) <= 1)"
    )
    second_close = (
        "(jaro_winkler_similarity(second_surname_l, second_surname_r) >= 0.9 "
        "OR levenshtein(second_surname_l, second_surname_r) <= 1)"
    )
    one_missing = "(second_surname_l IS NULL OR second_surname_r IS NULL)"
    return {
        "output_column_name": "surnames",
        "comparison_description": "Two surnames: equal, swapped, one dropped, spelling",
        "comparison_levels": [
            _level("first_surname_l IS NULL OR first_surname_r IS NULL", "Null", null=True),
            _level(
                "surnames_l = surnames_r",
                "Both surnames equal",
                tf="surnames",
            ),
            _level(
                "first_surname_l = second_surname_r AND second_surname_l = first_surname_r",
                "Surnames swapped",
            ),
            _level(NAMES_SWAPPED, "Given name and surname swapped"),
            _level(
                f"first_surname_l = first_surname_r AND {one_missing}",
                "First surname equal, the second missing on one side",
                tf="first_surname",
            ),
            _level(
                "(second_surname_l IS NULL AND first_surname_l = second_surname_r) "
                "OR (second_surname_r IS NULL AND first_surname_r = second_surname_l)",
                "First surname dropped on one side (the other's second surname)",
            ),
            _level(
                f"{first_close} AND ({second_close} OR {one_missing})",
                "Both surnames spelling variants",
            ),
            _level(
                "first_surname_l = first_surname_r",
                "First surname equal, second differs",
                tf="first_surname",
            ),
            _level(
                "first_surname_l = second_surname_r OR second_surname_l = first_surname_r "
                "OR second_surname_l = second_surname_r",
                "A surname in common",
            ),
            _level(
                "jaro_winkler_similarity(first_surname_l, first_surname_r) >= 0.8",
                "First surname similar (Jaro-Winkler >= 0.8)",
            ),
            _else(),
        ],
    }


def birth_date_comparison() -> dict[str, Any]:
    y, m, d = "birth_year", "birth_month", "birth_day"
    return {
        "output_column_name": "birth_date",
        "comparison_description": "Date of birth: exact, day and month swapped, partial, typo",
        "comparison_levels": [
            _level(f"{y}_l IS NULL OR {y}_r IS NULL", "Null", null=True),
            _level(
                "birth_date_text_l = birth_date_text_r",
                "Same full date",
            ),
            _level(
                f"{y}_l = {y}_r AND {m}_l = {d}_r AND {d}_l = {m}_r",
                "Day and month swapped",
            ),
            _level(
                f"{y}_l = {y}_r AND ({m}_l IS NULL OR {m}_r IS NULL "
                f"OR ({m}_l = {m}_r AND ({d}_l IS NULL OR {d}_r IS NULL)))",
                "Partial dates that agree",
            ),
            _level(
                "hamming(birth_date_text_l, birth_date_text_r) <= 1",
                "One digit wrong",
            ),
            _level(f"{y}_l = {y}_r AND {m}_l = {m}_r", "Same year and month"),
            _level(
                "hamming(birth_date_text_l, birth_date_text_r) <= 2",
                "Two digits wrong or swapped",
            ),
            _level(f"{y}_l = {y}_r", "Same year"),
            _else(),
        ],
    }


def _simple_comparison(column: str, name: str, description: str, *, fuzzy: bool) -> dict[str, Any]:
    levels = [
        _level(f"{column}_l IS NULL OR {column}_r IS NULL", "Null", null=True),
        _level(f"{column}_l = {column}_r", "Equal", tf=column if fuzzy else None),
    ]
    if fuzzy:
        levels.append(_level(_jw(column, 0.95), "Nearly equal (Jaro-Winkler >= 0.95)"))
        levels.append(_level(_jw(column, 0.88), "Similar (Jaro-Winkler >= 0.88)"))
    levels.append(_else())
    return {
        "output_column_name": name,
        "comparison_description": description,
        "comparison_levels": levels,
    }


@dataclass(frozen=True)
class BlockingRule:
    """Pairs whose left `left` columns equal their right `right` columns (usually the same
    columns; different ones catch a surname moved from one field to the other)."""

    left: tuple[str, ...]
    right: tuple[str, ...] | None = None
    # What replaces the rule where its blocks grow too large (ModelDesign.fitted).
    tighter: BlockingRule | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for column in (*self.left, *(self.right or ())):
            if not re.fullmatch(r"\w+", column):
                raise ValueError(f"not a column name: {column!r}")

    @property
    def right_columns(self) -> tuple[str, ...]:
        return self.right or self.left

    def sql(self) -> str:
        return " AND ".join(
            f"l.{a} = r.{b}" for a, b in zip(self.left, self.right_columns, strict=True)
        )


# Each kind of error the comparisons allow for leaves at least one rule that still brings the
# pair together, and every rule pairs a name with part of the date (or the whole date, or
# the document), so that blocks stay small where a few names are very common (a million
# returnees hold tens of thousands of José Hernández). Where a rule's blocks still grow too
# large for the data at hand (ModelDesign.fitted), its `tighter` variant replaces it: one
# more part of the date, or a name, so that the pairs grow with the records, not with their
# square. 1,000,000 generated returnees: 258 million pairs with the rules alone, 17 million
# fitted, keeping 97% of the true pairs in some block (99.3% before).
def _rule(
    left: tuple[str, ...],
    right: tuple[str, ...] | None = None,
    *,
    tighter: tuple[tuple[str, ...], tuple[str, ...] | None] | None = None,
) -> BlockingRule:
    return BlockingRule(left, right, BlockingRule(*tighter) if tighter else None)


G, G_PH, S1, S1_PH, S2, S2_PH = (
    "given_1",
    "given_1_ph",
    "first_surname",
    "first_surname_ph",
    "second_surname",
    "second_surname_ph",
)
Y, M, D = "birth_year", "birth_month", "birth_day"
PREDICTION_BLOCKING = (
    _rule((G, S1, Y), tighter=((G, S1, Y, M), None)),
    _rule((S1_PH, Y, M), tighter=((S1_PH, Y, M, D), None)),
    _rule((G_PH, Y, M), tighter=((G_PH, S1_PH, Y, D), None)),
    # A wrong year, or a date known only in part.
    _rule((G_PH, S1_PH, M, D)),
    # The whole name by sound: given name and both surnames (or the one surname recorded).
    _rule((G_PH, "surnames_ph"), tighter=((G_PH, "surnames_ph", Y), None)),
    _rule((S1_PH, S2_PH, Y), tighter=((S1_PH, S2_PH, Y, M), None)),
    _rule((G, S2, Y), tighter=((G_PH, S2_PH, Y, M), None)),
    _rule((Y, M, D), tighter=((G_PH, Y, M, D), None)),
    _rule(("document_number",)),
    # One surname dropped or the two swapped.
    _rule((G, S1, Y), (G, S2, Y), tighter=((G, S1, Y, M), (G, S2, Y, M))),
    _rule((G, S2, Y), (G, S1, Y), tighter=((G, S2, Y, M), (G, S1, Y, M))),
    _rule((Y, M, D), (Y, D, M), tighter=((G_PH, Y, M, D), (G_PH, Y, D, M))),
    # Given name and surname swapped.
    _rule((G, S1), (S1, G)),
    _rule((G, Y), (S1, Y), tighter=((G, Y, M), (S1, Y, M))),
    _rule((S1, Y), (G, Y), tighter=((S1, Y, M), (G, Y, M))),
)
# Where no record has a date of birth, names alone.
NAMES_ONLY_BLOCKING = (
    BlockingRule(("given_1", "first_surname")),
    # The whole name by sound: given name and both surnames (or the one surname recorded).
    BlockingRule(("given_1_ph", "surnames_ph")),
)
TRAINING_BLOCKING = (
    BlockingRule(("given_1", "first_surname")),
    BlockingRule(("birth_year", "birth_month", "birth_day")),
    BlockingRule(("document_number",)),
)


@dataclass
class ModelDesign:
    """What a model compares: the standard columns present in the data, plus extra columns."""

    columns: tuple[str, ...]
    extra_columns: tuple[str, ...] = ()
    extra_blocking: tuple[BlockingRule, ...] = ()
    # The prediction rules fitted to the data's size (see fitted), once known.
    fitted_blocking: tuple[BlockingRule, ...] | None = None

    @classmethod
    def for_frames(
        cls,
        frames: Sequence[pd.DataFrame],
        *,
        extra_columns: Sequence[str] = (),
        extra_blocking: Sequence[BlockingRule] = (),
    ) -> ModelDesign:
        present = tuple(
            column
            for column in (
                "given_names",
                "first_surname",
                "birth_year",
                "sex",
                "document_number",
                "place",
            )
            if any(frame[column].notna().any() for frame in frames)
        )
        return cls(present, tuple(extra_columns), tuple(extra_blocking))

    def comparisons(self) -> list[dict[str, Any]]:
        comparisons = []
        if "given_names" in self.columns:
            comparisons.append(given_names_comparison())
        if "first_surname" in self.columns:
            comparisons.append(surnames_comparison())
        if "birth_year" in self.columns:
            comparisons.append(birth_date_comparison())
        if "sex" in self.columns:
            comparisons.append(_simple_comparison("sex", "sex", "Sex", fuzzy=False))
        if "document_number" in self.columns:
            comparisons.append(
                _simple_comparison(
                    "document_number", "document_number", "Document number", fuzzy=True
                )
            )
        if "place" in self.columns:
            comparisons.append(_simple_comparison("place", "place", "Place", fuzzy=True))
        for extra in self.extra_columns:
            comparisons.append(_simple_comparison(f"x_{extra}", f"x_{extra}", extra, fuzzy=True))
        return comparisons

    def _usable(self, rule: BlockingRule) -> bool:
        needed = {column.removesuffix("_ph") for column in (*rule.left, *rule.right_columns)}
        needed = {
            {
                "given_1": "given_names",
                "second_surname": "first_surname",
                "surnames": "first_surname",
                "birth_month": "birth_year",
                "birth_day": "birth_year",
            }.get(c, c)
            for c in needed
        }
        known = {*self.columns, *(f"x_{extra}" for extra in self.extra_columns)}
        return needed <= known

    def prediction_blocking(self) -> list[BlockingRule]:
        if self.fitted_blocking is not None:
            return list(self.fitted_blocking)
        rules = (*PREDICTION_BLOCKING, *self.extra_blocking)
        if "birth_year" not in self.columns:
            rules = (*NAMES_ONLY_BLOCKING, *self.extra_blocking)
        return [rule for rule in rules if self._usable(rule)]

    def fitted(self, frames: Sequence[pd.DataFrame], *, link: bool) -> tuple[ModelDesign, int]:
        """This design with each prediction rule whose own pairs exceed the budget per rule
        replaced by its tighter variant, and the pairs the fitted rules project. The budget
        grows with the records, so small files keep every rule as it is."""
        records = sum(len(frame) for frame in frames)
        budget = max(RULE_PAIRS_FLOOR, RULE_PAIRS_PER_RECORD * records)
        chosen: list[BlockingRule] = []
        projected = 0
        for rule in self.prediction_blocking():
            pairs = count_pairs(frames, [rule], link=link)
            if pairs > budget and rule.tighter is not None and self._usable(rule.tighter):
                rule = rule.tighter
                pairs = count_pairs(frames, [rule], link=link)
            if rule not in chosen:
                chosen.append(rule)
                projected += pairs
        return dataclasses.replace(self, fitted_blocking=tuple(chosen)), projected

    def training_blocking(self) -> list[BlockingRule]:
        return [rule for rule in TRAINING_BLOCKING if self._usable(rule)]

    def settings(self, link_type: str) -> dict[str, Any]:
        return {
            "link_type": link_type,
            "unique_id_column_name": RECORD_ID,
            "source_dataset_column_name": SOURCE,
            "probability_two_random_records_match": 1e-4,
            "blocking_rules_to_generate_predictions": [
                {"blocking_rule": rule.sql(), "sql_dialect": "duckdb"}
                for rule in self.prediction_blocking()
            ],
            "comparisons": self.comparisons(),
            "retain_matching_columns": True,
            "retain_intermediate_calculation_columns": True,
            "additional_columns_to_retain": [],
            "em_convergence": 0.001,
            "max_iterations": 25,
        }


# --- Running -------------------------------------------------------------------------------------


@dataclass
class LinkageOutcome:
    """Scored pairs above the threshold (with the match weight of each comparison, its
    reasons), clusters at the threshold, the model used and figures of the run."""

    pairs: pd.DataFrame
    clusters: pd.DataFrame
    model: dict[str, Any]
    threshold: float
    records: int
    projected_pairs: int
    seconds: dict[str, float] = field(default_factory=dict)
    trained: bool = False


Progress = Callable[[str], None]


def _quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


def count_pairs(
    frames: Sequence[pd.DataFrame], rules: Sequence[BlockingRule], *, link: bool
) -> int:
    """How many pairs the rules would make at most (each rule's own count, summed; pairs that
    two rules both make are counted twice), counted from the block sizes without making them."""
    connection = duckdb.connect()
    try:
        total = 0
        if link:
            left, right = frames
            connection.register("l_input", left)
            connection.register("r_input", right)
        else:
            (left,) = frames
            connection.register("l_input", left)
            connection.register("r_input", left)
        for rule in rules:
            lkeys = ", ".join(f"{c} AS k{i}" for i, c in enumerate(rule.left))
            rkeys = ", ".join(f"{c} AS k{i}" for i, c in enumerate(rule.right_columns))
            lnotnull = " AND ".join(f"{c} IS NOT NULL" for c in rule.left)
            rnotnull = " AND ".join(f"{c} IS NOT NULL" for c in rule.right_columns)
            keys = ", ".join(f"k{i}" for i in range(len(rule.left)))
            on = " AND ".join(f"a.k{i} = b.k{i}" for i in range(len(rule.left)))
            # Column names only, each a \w+ identifier (BlockingRule checks): no value is spliced.
            sql = f"""
                WITH a AS (SELECT {keys}, count(*) AS n FROM (SELECT {lkeys} FROM l_input
                           WHERE {lnotnull}) GROUP BY ALL),
                     b AS (SELECT {keys}, count(*) AS n FROM (SELECT {rkeys} FROM r_input
                           WHERE {rnotnull}) GROUP BY ALL)
                SELECT coalesce(sum(a.n::HUGEINT * b.n), 0) FROM a JOIN b ON {on}
            """  # noqa: S608
            (count,) = connection.execute(sql).fetchone() or (0,)
            if not link and rule.right is None:
                # Within one file a pair is counted once and a record is not paired with itself.
                (selves,) = connection.execute(
                    f"SELECT count(*) FROM l_input WHERE {lnotnull}"  # noqa: S608
                ).fetchone() or (0,)
                count = (int(count) - int(selves)) // 2
            total += int(count)
        return total
    finally:
        connection.close()


@functools.cache
def _clamp_em_underflow() -> None:
    """Work around Splink 5.0.0: expectation maximisation can drive an m or u probability
    below 1e-300 (a level the blocked pairs never show, after many iterations), and the
    level's setter then raises, ending the training session half way with the model's prior
    overwritten. Splink clamps m and u at that same minimum when it computes match weights,
    so the values are clamped before they are set, as they would be used."""
    from splink.internals import expectation_maximisation as em
    from splink.internals.comparison_level import M_U_CLAMP_MIN

    original = em.populate_m_u_from_lookup

    def populate(
        training_fixed_probabilities: Any,
        comparison_level: Any,
        output_column_name: str,
        m_u_records_lookup: dict[str, dict[int, Any]],
    ) -> None:
        for records in m_u_records_lookup.values():
            for record in records.values():
                for key in ("m_probability", "u_probability"):
                    value = record.get(key)
                    if isinstance(value, float) and 0 <= value < M_U_CLAMP_MIN:
                        record[key] = M_U_CLAMP_MIN
        original(
            training_fixed_probabilities,
            comparison_level,
            output_column_name,
            m_u_records_lookup,
        )

    em.populate_m_u_from_lookup = populate


# The model's SQL is written for DuckDB; on Spark, the same comparisons are spelled with
# Splink's Spark functions (its similarity jar) and Spark's own.
_HAMMING = re.compile(r"hamming\((\w+), (\w+)\)")


def _hamming_in_spark(match: re.Match[str]) -> str:
    left, right = match.group(1), match.group(2)
    return (
        f"(CASE WHEN length({left}) = length({right}) THEN aggregate(sequence(1, length({left})), "
        f"0, (n, i) -> n + IF(substr({left}, i, 1) = substr({right}, i, 1), 0, 1)) END)"
    )


def _sql_for_spark(sql: str) -> str:
    return _HAMMING.sub(_hamming_in_spark, sql.replace("jaro_winkler_similarity(", "jaro_winkler("))


def settings_for_spark(settings: dict[str, Any]) -> dict[str, Any]:
    """The same model (settings or a saved model, its parameters untouched) with its SQL in
    Spark's dialect."""
    spark_settings = {**settings, "sql_dialect": "spark"}
    spark_settings["blocking_rules_to_generate_predictions"] = [
        {**rule, "blocking_rule": _sql_for_spark(rule["blocking_rule"]), "sql_dialect": "spark"}
        for rule in settings["blocking_rules_to_generate_predictions"]
    ]
    spark_settings["comparisons"] = [
        {
            **comparison,
            "comparison_levels": [
                {**level, "sql_condition": _sql_for_spark(level["sql_condition"])}
                for level in comparison["comparison_levels"]
            ],
        }
        for comparison in settings["comparisons"]
    ]
    return spark_settings


def spark_session_for_linkage(*, cores: int = 2, scratch: Path | None = None) -> Any:
    """A local Spark session able to run Mirador's models: Splink's similarity functions on
    its class path and a checkpoint directory (Splink checkpoints blocked pairs). On a
    cluster, configure the same two things on the cluster's session instead."""
    import tempfile

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("mirador-linkage")
        .config("spark.jars", similarity_jar_location())
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .getOrCreate()
    )
    session.sparkContext.setCheckpointDir(str(scratch or tempfile.mkdtemp(prefix="mirador-spark-")))
    return session


def _linker(frames: Sequence[pd.DataFrame], settings: dict[str, Any], spark: Any = None) -> Any:
    from splink import DuckDBAPI, Linker, SparkAPI

    _quiet_splink()
    _clamp_em_underflow()
    if spark is None:
        db_api: Any = DuckDBAPI()
        inputs: list[Any] = list(frames)
    else:
        db_api = SparkAPI(spark_session=spark, num_partitions_on_repartition=2)
        settings = settings_for_spark(settings)
        # Spark takes missing values as None, not pandas' NA.
        inputs = [
            spark.createDataFrame(frame.astype(object).where(frame.notna(), None))
            for frame in frames
        ]
    registered = [
        db_api.register(frame, dataset_display_name=f"input_{index}")
        for index, frame in enumerate(inputs)
    ]
    return Linker(registered if len(registered) > 1 else registered[0], settings, log_level=None)


def train(
    frames: Sequence[pd.DataFrame], design: ModelDesign, *, link: bool, seed: int = 42
) -> dict[str, Any]:
    """A model for these records: u by random sampling, m by EM over several blocking rules,
    the prior from records agreeing on name, surname and full date of birth."""
    from splink import block_on  # noqa: F401  (imported so Splink's dialects are registered)

    settings = design.settings("link_only" if link else "dedupe_only")
    linker = _linker(frames, settings)
    records = sum(len(frame) for frame in frames)
    deterministic = [
        rule
        for rule in (
            "l.given_names = r.given_names AND l.surnames = r.surnames "
            "AND l.birth_date_text = r.birth_date_text",
            "l.document_number = r.document_number AND l.given_1 = r.given_1",
        )
        if all(
            c in design.columns
            for c in (
                ("document_number",)
                if "document" in rule
                else ("given_names", "first_surname", "birth_year")
            )
        )
    ]
    if deterministic:
        try:
            linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
        except Exception:  # noqa: BLE001 — no deterministic match at all: keep the default prior
            logger.debug("prior estimation found no deterministic matches")
    prior = linker.misc.save_model_to_json()["probability_two_random_records_match"]
    tick = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(
        max_pairs=min(U_SAMPLE_PAIRS, max(1e5, records * records / 4)), seed=seed
    )
    logger.debug("u: %.1f s", time.perf_counter() - tick)
    for rule in design.training_blocking():
        tick = time.perf_counter()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule.sql(), estimate_without_term_frequencies=True
            )
        except Exception as error:  # noqa: BLE001 — a rule that blocks nothing trains nothing
            logger.debug("EM on %s skipped: %s", rule.sql(), type(error).__name__)
        logger.debug("EM on %s: %.1f s", rule.sql(), time.perf_counter() - tick)
    model: dict[str, Any] = linker.misc.save_model_to_json()
    # The prior is the direct estimate; EM's own is discarded (as Splink does when a session
    # ends normally, and also when one ends with an error).
    model["probability_two_random_records_match"] = prior
    return smooth(model)


def smooth(model: dict[str, Any], floor: float = M_FLOOR) -> dict[str, Any]:
    """No level keeps an m probability of zero: EM gives zero (or nothing) to a kind of
    disagreement the training data happens not to show (no sex recorded wrong among its
    duplicates), and a zero would make that disagreement veto any match, however strong the
    rest, in the next file. Each m is raised to `floor` at least, and a comparison's m are
    scaled back to sum to one (a pseudo-count, as in additive smoothing). A level never seen
    among the random pairs gets the u of one pair in the sample."""
    u_floor = 1 / U_SAMPLE_PAIRS
    for comparison in model["comparisons"]:
        levels = [
            level for level in comparison["comparison_levels"] if not level.get("is_null_level")
        ]
        if not levels:
            continue
        for key, least in (("m_probability", floor), ("u_probability", u_floor)):
            raised = [max(float(level.get(key) or 0.0), least) for level in levels]
            total = sum(raised)
            for level, value in zip(levels, raised, strict=True):
                level[key] = value / total
    return model


def match_weight_columns(pairs: pd.DataFrame) -> list[str]:
    return [column for column in pairs.columns if column.startswith("weight_")]


def _tidy_pairs(predictions: pd.DataFrame, model: dict[str, Any]) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "record_id_l": predictions[f"{RECORD_ID}_l"].astype("string"),
            "record_id_r": predictions[f"{RECORD_ID}_r"].astype("string"),
            "source_l": predictions[f"{SOURCE}_l"].astype("string"),
            "source_r": predictions[f"{SOURCE}_r"].astype("string"),
            "match_probability": predictions["match_probability"].astype(float),
            "match_weight": predictions["match_weight"].astype(float),
        }
    )
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        weight = predictions[f"mw_{name}"].astype(float)
        tf_column = f"mw_tf_adj_{name}"
        if tf_column in predictions:
            weight = weight + predictions[tf_column].astype(float).fillna(0.0)
        out[f"weight_{name}"] = weight.round(3)
        out[f"level_{name}"] = predictions[f"gamma_{name}"].astype(int)
    return out.sort_values("match_probability", ascending=False, kind="stable").reset_index(
        drop=True
    )


def _clusters(
    frames: Sequence[pd.DataFrame], pairs: pd.DataFrame, threshold: float
) -> pd.DataFrame:
    """Connected components of the pairs at or above the threshold (union-find)."""
    nodes = pd.concat([frame[[SOURCE, RECORD_ID]] for frame in frames], ignore_index=True).astype(
        "string"
    )
    keys = (nodes[SOURCE].fillna("") + "\x1f" + nodes[RECORD_ID]).tolist()
    index = {key: position for position, key in enumerate(keys)}
    parent = list(range(len(keys)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    kept = pairs[pairs["match_probability"] >= threshold]
    left = (kept["source_l"].astype("string").fillna("") + "\x1f" + kept["record_id_l"]).tolist()
    right = (kept["source_r"].astype("string").fillna("") + "\x1f" + kept["record_id_r"]).tolist()
    for a, b in zip(left, right, strict=True):
        ra, rb = find(index[a]), find(index[b])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = [find(i) for i in range(len(keys))]
    clusters = nodes.copy()
    first_id = nodes[RECORD_ID].tolist()
    clusters["cluster_id"] = [first_id[root] for root in roots]
    sizes = clusters.groupby("cluster_id")["cluster_id"].transform("size")
    clusters["cluster_size"] = sizes.astype(int)
    return clusters[["cluster_id", SOURCE, RECORD_ID, "cluster_size"]]


def _collapse_identical(prepared: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records equal in every compared column, collapsed to the first of them: returns the
    records to link and (representative, duplicate) pairs. A file of a million identical rows
    is then one record to link, not half a trillion pairs."""
    compared = [c for c in prepared.columns if c not in (RECORD_ID, SOURCE)]
    group = prepared.groupby(compared, dropna=False, sort=False).ngroup()
    first = ~group.duplicated()
    representative = pd.Series(
        prepared[RECORD_ID].to_numpy()[first.to_numpy()], index=group[first].to_numpy()
    )
    duplicates = prepared[~first]
    identical = pd.DataFrame(
        {
            "record_id_l": representative.loc[group[~first].to_numpy()].to_numpy(),
            "record_id_r": duplicates[RECORD_ID].to_numpy(),
            "source_l": prepared.loc[first, SOURCE]
            .set_axis(group[first].to_numpy())
            .loc[group[~first].to_numpy()]
            .to_numpy(),
            "source_r": duplicates[SOURCE].to_numpy(),
        }
    )
    return prepared[first].reset_index(drop=True), identical


def _run(
    frames: list[pd.DataFrame],
    *,
    link: bool,
    model: dict[str, Any] | None,
    threshold: float,
    max_pairs: int | None,
    extra_columns: Sequence[str],
    extra_blocking: Sequence[BlockingRule],
    progress: Progress,
    spark: Any = None,
) -> LinkageOutcome:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    records = sum(len(frame) for frame in frames)
    identical = pd.DataFrame(columns=["record_id_l", "record_id_r", "source_l", "source_r"])
    all_frames = frames
    if not link:
        collapsed, identical = _collapse_identical(frames[0])
        if len(identical):
            progress(f"{len(identical)} records identical to another, linked to it directly")
        frames = [collapsed]
    design = ModelDesign.for_frames(
        frames, extra_columns=extra_columns, extra_blocking=extra_blocking
    )
    if not design.columns:
        raise InputError("no_values", "no record has a name, a date of birth or a document")
    limit = default_max_pairs() if max_pairs is None else max_pairs
    if model is None:
        design, projected = design.fitted(frames, link=link)
    else:
        rules = [
            BlockingRule(
                tuple(re.findall(r"l\.(\w+)", r["blocking_rule"])),
                tuple(re.findall(r"r\.(\w+)", r["blocking_rule"])),
            )
            for r in model["blocking_rules_to_generate_predictions"]
        ]
        rules = [BlockingRule(r.left, None if r.left == r.right else r.right) for r in rules]
        projected = count_pairs(frames, rules, link=link)
    progress(f"blocking would compare at most {projected:,} pairs")
    if projected > limit:
        raise TooManyPairsError(projected, limit)
    seconds["prepare"] = time.perf_counter() - started
    trained = model is None
    if model is not None:
        model = {**model, "link_type": "link_only" if link else "dedupe_only"}
    if model is None and projected == 0:
        # Nothing to compare (every record alone in its blocks): no model to train.
        trained = False
        model = design.settings("link_only" if link else "dedupe_only")
    if model is None:
        progress("training the model (u by random sampling, m by expectation maximisation)")
        tick = time.perf_counter()
        model = train(_training_sample(frames), design, link=link)
        seconds["train"] = time.perf_counter() - tick
    progress("scoring candidate pairs")
    tick = time.perf_counter()
    if projected == 0:
        predictions = None
    else:
        linker = _linker(frames, model, spark)
        predictions = linker.inference.predict(
            threshold_match_probability=min(threshold, 0.5), warning_mode="never"
        ).as_pandas_dataframe()
    if predictions is None or len(predictions) == 0:
        columns = [
            "record_id_l",
            "record_id_r",
            "source_l",
            "source_r",
            "match_probability",
            "match_weight",
        ]
        pairs = pd.DataFrame(
            {c: pd.Series(dtype="float" if c.startswith("match") else "string") for c in columns}
        )
    else:
        if f"{SOURCE}_l" not in predictions:
            # Within one table Splink does not return the source: every record's is its own.
            sources = dict(zip(frames[0][RECORD_ID], frames[0][SOURCE], strict=True))
            predictions[f"{SOURCE}_l"] = predictions[f"{RECORD_ID}_l"].map(sources)
            predictions[f"{SOURCE}_r"] = predictions[f"{RECORD_ID}_r"].map(sources)
        pairs = _tidy_pairs(predictions, model)
    if len(identical):
        same = identical.assign(match_probability=1.0, match_weight=math.inf)
        pairs = pd.concat([same, pairs], ignore_index=True)
    pairs = pairs[pairs["match_probability"] >= threshold].reset_index(drop=True)
    seconds["predict"] = time.perf_counter() - tick
    tick = time.perf_counter()
    clusters = _clusters(all_frames, pairs, threshold)
    seconds["cluster"] = time.perf_counter() - tick
    seconds["total"] = time.perf_counter() - started
    return LinkageOutcome(
        pairs=pairs,
        clusters=clusters,
        model=model,
        threshold=threshold,
        records=records,
        projected_pairs=projected,
        seconds=seconds,
        trained=trained,
    )


def _training_sample(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The records the model is trained on: all of them, or beyond TRAIN_RECORDS the same
    random share of each table. A share p keeps p² of the pairs and p² of the matches, so
    the prior, m and u estimated on it stand for the whole; EM over the blocks of a million
    records would compare hundreds of millions of pairs."""
    records = sum(len(frame) for frame in frames)
    if records <= TRAIN_RECORDS:
        return frames
    share = TRAIN_RECORDS / records
    return [
        frame.sample(frac=share, random_state=TRAIN_SEED).reset_index(drop=True) for frame in frames
    ]


def _silent(message: str) -> None:
    return None


def dedupe(
    records: pd.DataFrame,
    *,
    model: dict[str, Any] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    max_pairs: int | None = None,
    extra_columns: Sequence[str] = (),
    extra_blocking: Sequence[BlockingRule] = (),
    progress: Progress = _silent,
    prepared: bool = False,
    spark: Any = None,
) -> LinkageOutcome:
    """Find the records of one table that are the same person. Trains a model on the records
    unless `model` (a saved one) is given. With `spark` (a session, e.g. from
    spark_session_for_linkage) the pairs are scored on Spark instead of DuckDB, with the same
    model; training, on samples and blocked pairs, stays on DuckDB."""
    frame = records if prepared else prepare(records, extra_columns=extra_columns)
    return _run(
        [frame],
        link=False,
        model=model,
        threshold=threshold,
        max_pairs=max_pairs,
        extra_columns=extra_columns,
        extra_blocking=extra_blocking,
        progress=progress,
        spark=spark,
    )


def link(
    left: pd.DataFrame,
    right: pd.DataFrame,
    *,
    model: dict[str, Any] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    max_pairs: int | None = None,
    extra_columns: Sequence[str] = (),
    extra_blocking: Sequence[BlockingRule] = (),
    progress: Progress = _silent,
    prepared: bool = False,
    spark: Any = None,
) -> LinkageOutcome:
    """Find the pairs of records, one from each table, that are the same person (scored on
    Spark with `spark`, as in dedupe)."""
    frames = [left, right]
    if not prepared:
        frames = [
            prepare(left, extra_columns=extra_columns, source="left"),
            prepare(right, extra_columns=extra_columns, source="right"),
        ]
    # Splink links two tables apart by their source; give them distinct ones.
    if (
        set(frames[0][SOURCE].dropna()) & set(frames[1][SOURCE].dropna())
        or frames[0][SOURCE].isna().any()
    ):
        frames = [frames[0].assign(source="left"), frames[1].assign(source="right")]
    return _run(
        frames,
        link=True,
        model=model,
        threshold=threshold,
        max_pairs=max_pairs,
        extra_columns=extra_columns,
        extra_blocking=extra_blocking,
        progress=progress,
        spark=spark,
    )
