"""Loading and updating Mirador's reference data, for the data migration and for
`mirador load_reference_data`.

Sources:
- countries (ISO 3166-1) and the subdivisions (ISO 3166-2) of the RCM member states come from
  `pycountry`, with Spanish names from pycountry's own gettext catalogues;
- RCM membership and the organisation types are constants below;
- organisations, reception centres and consulates come from the CSV files in `core/data/`.

Every function takes an app registry (`django.apps.apps`, or the historical registry a data
migration receives) and never imports the models, so migrations can call it. Running a loader
twice changes nothing. Rows the source no longer lists are kept and counted, never deleted:
users, persons and case records point at them.

Countries, subdivisions and organisation types are owned by their sources: the loader brings
existing rows back to the source. Organisations, reception centres and consulates are edited in
the admin after the first load (a confirmed capacity, say), so the loader only adds the rows it
is missing unless asked to `update_existing`.
"""

from __future__ import annotations

import csv
import gettext
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycountry
from django.core.exceptions import ValidationError
from django.db import transaction

from mirador.core.lookups import reference_rows_forget
from mirador.core.models import OrganisationType, RcmStatus, ReceptionCentreKind

DATA_DIR = Path(__file__).resolve().parent / "data"
ORGANISATIONS_CSV = "organisations.csv"
RECEPTION_CENTRES_CSV = "reception_centres.csv"
CONSULATES_CSV = "consulates.csv"

# Regional Conference on Migration (Conferencia Regional sobre Migración, "Puebla Process"):
# 11 member states and 5 observer states, as listed by the RCM's own site
# (https://rcmvs.org/en/about-us/observer-countries) and by IOM's San José regional office,
# which hosts its Technical Secretariat (https://rosanjose.iom.int/en/regional-conference-migration).
RCM_MEMBERS: tuple[str, ...] = ("BZ", "CA", "CR", "DO", "SV", "GT", "HN", "MX", "NI", "PA", "US")
RCM_OBSERVERS: tuple[str, ...] = ("AR", "CO", "EC", "JM", "PE")

ORGANISATION_TYPES: dict[str, tuple[str, str]] = {
    OrganisationType.GOVERNMENT: ("Government", "Gobierno"),
    OrganisationType.CIVIL_SOCIETY: ("Civil society", "Sociedad civil"),
    OrganisationType.INTERNATIONAL: ("International organisation", "Organismo internacional"),
    OrganisationType.PRIVATE_SECTOR: ("Private sector", "Sector privado"),
    OrganisationType.ACADEMIA: ("Academia", "Academia"),
}

# Spanish country names where pycountry's catalogue is wrong (misspelt, or an English name left
# untranslated) or awkward for names a Central American user meets often. Everything else is
# the catalogue's translation of pycountry's common name when it has one ("Corea del Sur",
# "Bolivia"), else of its ISO short name ("Micronesia, Estados Federados de").
SPANISH_COUNTRY_NAME_CORRECTIONS: dict[str, str] = {
    "AX": "Islas Åland",  # catalogue: "Islas Äland"
    "CI": "Costa de Marfil",  # catalogue: "Costa de Marfíl"
    "DZ": "Argelia",  # catalogue: "Algeria" (the English name)
    "NE": "Níger",  # catalogue: "Niger"
    "SR": "Surinam",  # catalogue: "Surinám"
    "TN": "Túnez",  # catalogue: "Tunez"
    "VG": "Islas Vírgenes Británicas",  # catalogue: "Islas Vírgenes, Británicas"
    "VI": "Islas Vírgenes de los Estados Unidos",  # catalogue: "Islas Vírgenes, de EEUU."
}

TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0", ""}


class ReferenceDataError(ValueError):
    """A reference-data source cannot be loaded; says which file, row and field, and why.

    Rows are counted as lines of the file (the header is a row), so the number is the line an
    editor shows.
    """

    def __init__(self, *, file: str, row: int, field: str, problem: str):
        self.file = file
        self.row = row
        self.field = field
        self.problem = problem
        super().__init__(f"{file}, row {row}, field {field!r}: {problem}")


@dataclass
class LoadCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows that differ from the source but were left as edited (update_existing=False).
    kept_as_edited: int = 0
    # Rows in the database that the source does not list (kept: other records point at them).
    not_in_source: int = 0

    @property
    def in_source(self) -> int:
        return self.created + self.updated + self.unchanged + self.kept_as_edited

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


# ---------------------------------------------------------------------------------------------
# Writing rows


def _sync(
    model: Any,
    rows: dict[Hashable, dict[str, Any]],
    *,
    key: Callable[[Any], Hashable],
    update_existing: bool = True,
) -> LoadCounts:
    """Bring `model`'s table in line with `rows` (natural key -> field values), creating the
    missing rows in order and saving only the fields that differ."""
    existing = {key(instance): instance for instance in model._default_manager.all()}
    counts = LoadCounts(not_in_source=len(existing.keys() - rows.keys()))
    has_modified_at = any(field.name == "modified_at" for field in model._meta.concrete_fields)
    missing = []
    for natural_key, values in rows.items():
        instance = existing.get(natural_key)
        if instance is None:
            missing.append(model(**values))
            continue
        changed = [name for name, value in values.items() if getattr(instance, name) != value]
        if not changed:
            counts.unchanged += 1
        elif not update_existing:
            counts.kept_as_edited += 1
        else:
            for name in changed:
                setattr(instance, name, values[name])
            instance.save(update_fields=[*changed, "modified_at"] if has_modified_at else changed)
            counts.updated += 1
    model._default_manager.bulk_create(missing, batch_size=500)
    counts.created = len(missing)
    # Rows kept by this process (core.lookups) are read again.
    reference_rows_forget()
    return counts


# ---------------------------------------------------------------------------------------------
# pycountry sources


class _Untranslated(gettext.NullTranslations):
    """Fallback that marks a message missing from the catalogue with an empty string."""

    def gettext(self, message: str) -> str:
        return ""


def spanish_catalogue(domain: str) -> Callable[[str], str | None]:
    """Spanish translation of an English ISO name from pycountry's catalogue `domain`
    ("iso3166-1", "iso3166-2"), or None when the catalogue does not have it."""
    path = gettext.find(domain, pycountry.LOCALES_DIR, languages=["es"])
    if path is None:
        raise FileNotFoundError(
            f"pycountry has no Spanish catalogue {domain!r} in {pycountry.LOCALES_DIR}: "
            "reinstall pycountry."
        )
    # A private instance, not gettext.translation()'s shared cached one, so adding the
    # fallback changes nobody else's translations.
    with open(path, "rb") as catalogue_file:
        translations = gettext.GNUTranslations(catalogue_file)
    translations.add_fallback(_Untranslated())

    def translate(english: str) -> str | None:
        return translations.gettext(english) or None

    return translate


def rcm_status_of(alpha2: str) -> str:
    if alpha2 in RCM_MEMBERS:
        return RcmStatus.MEMBER.value
    if alpha2 in RCM_OBSERVERS:
        return RcmStatus.OBSERVER.value
    return ""


def country_rows() -> dict[Hashable, dict[str, Any]]:
    spanish = spanish_catalogue("iso3166-1")
    rows: dict[Hashable, dict[str, Any]] = {}
    for country in pycountry.countries:
        common_name = getattr(country, "common_name", None)
        english = common_name or country.name
        name_es = (
            SPANISH_COUNTRY_NAME_CORRECTIONS.get(country.alpha_2)
            or (spanish(common_name) if common_name else None)
            or spanish(country.name)
            or english
        )
        rows[country.alpha_2] = {
            "alpha2": country.alpha_2,
            "alpha3": country.alpha_3,
            "numeric": country.numeric,
            "name_en": english,
            "name_es": name_es,
            "rcm_status": rcm_status_of(country.alpha_2),
        }
    return rows


def subdivision_rows(country_codes: Iterable[str]) -> dict[Hashable, dict[str, Any]]:
    """ISO 3166-2 subdivisions of the given countries, parents before their children."""
    spanish = spanish_catalogue("iso3166-2")
    subdivisions: list[Any] = []
    for alpha2 in country_codes:
        subdivisions.extend(pycountry.subdivisions.get(country_code=alpha2) or [])
    by_code = {subdivision.code: subdivision for subdivision in subdivisions}

    def depth(code: str) -> int:
        parent = by_code[code].parent_code
        return 0 if parent is None else 1 + depth(parent)

    rows: dict[Hashable, dict[str, Any]] = {}
    for code in sorted(by_code, key=lambda code: (depth(code), code)):
        subdivision = by_code[code]
        rows[code] = {
            "code": code,
            "country_id": subdivision.country_code,
            "category": subdivision.type,
            "parent_id": subdivision.parent_code,
            "name_en": subdivision.name,
            "name_es": spanish(subdivision.name) or subdivision.name,
        }
    return rows


def load_countries(apps: Any) -> LoadCounts:
    """Every country of ISO 3166-1, with its RCM status."""
    country = apps.get_model("core", "Country")
    return _sync(country, country_rows(), key=lambda instance: instance.pk)


def load_subdivisions(apps: Any, *, country_codes: Iterable[str] = RCM_MEMBERS) -> LoadCounts:
    """The ISO 3166-2 subdivisions of the RCM member states (their countries must be loaded)."""
    subdivision = apps.get_model("core", "Subdivision")
    return _sync(subdivision, subdivision_rows(country_codes), key=lambda instance: instance.pk)


def load_organisation_types(apps: Any) -> LoadCounts:
    organisation_type = apps.get_model("core", "OrganisationType")
    rows: dict[Hashable, dict[str, Any]] = {
        code: {"code": code, "name_en": name_en, "name_es": name_es}
        for code, (name_en, name_es) in ORGANISATION_TYPES.items()
    }
    return _sync(organisation_type, rows, key=lambda instance: instance.pk)


# ---------------------------------------------------------------------------------------------
# CSV sources


@dataclass
class CsvRow:
    file: str
    number: int
    values: dict[str, str]

    def error(self, field: str, problem: str) -> ReferenceDataError:
        return ReferenceDataError(file=self.file, row=self.number, field=field, problem=problem)

    def text(self, field: str, *, required: bool = True) -> str:
        value = self.values.get(field, "").strip()
        if required and not value:
            raise self.error(field, "is empty")
        return value

    def boolean(self, field: str) -> bool:
        value = self.text(field, required=False).lower()
        if value in TRUE_WORDS:
            return True
        if value in FALSE_WORDS:
            return False
        raise self.error(field, f"{value!r} is not true or false")

    def positive_integer(self, field: str) -> int:
        value = self.text(field)
        if not value.isdigit() or int(value) == 0:
            raise self.error(field, f"{value!r} is not a whole number above zero")
        return int(value)

    def choice(self, field: str, choices: Iterable[str]) -> str:
        value = self.text(field)
        allowed = sorted(choices)
        if value not in allowed:
            raise self.error(field, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def country(self, field: str, known: set[str], *, required: bool = True) -> str | None:
        value = self.text(field, required=required).upper()
        if not value:
            return None
        if value not in known:
            raise self.error(field, f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value

    def subdivision(
        self, field: str, country_of: dict[str, str], *, country: str | None, required: bool = True
    ) -> str | None:
        value = self.text(field, required=required).upper()
        if not value:
            return None
        if value not in country_of:
            raise self.error(field, f"{value!r} is not a loaded ISO 3166-2 subdivision code")
        if country is not None and country_of[value] != country:
            raise self.error(
                field, f"{value!r} is a subdivision of {country_of[value]}, not of {country}"
            )
        return value


def read_csv(path: Path, *, columns: Iterable[str]) -> Iterator[CsvRow]:
    """The data rows of a reference CSV file. Lines starting with '#' are comments; a field may
    be quoted but not span lines."""
    required = list(columns)
    with path.open(encoding="utf-8", newline="") as source:
        lines = [
            (number, line)
            for number, line in enumerate(source, start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
    if not lines:
        raise ReferenceDataError(file=path.name, row=1, field=required[0], problem="no header row")
    header_number, header_line = lines[0]
    header = [name.strip() for name in next(csv.reader([header_line]))]
    for column in required:
        if column not in header:
            raise ReferenceDataError(
                file=path.name, row=header_number, field=column, problem="column is missing"
            )
    for number, line in lines[1:]:
        cells = next(csv.reader([line]))
        if len(cells) != len(header):
            raise ReferenceDataError(
                file=path.name,
                row=number,
                field=header[min(len(cells), len(header) - 1)],
                problem=f"has {len(cells)} fields, the header has {len(header)}",
            )
        yield CsvRow(file=path.name, number=number, values=dict(zip(header, cells, strict=True)))


def _validated(row: CsvRow, instance: Any) -> None:
    """Run the model's field validation on a row about to be written; report the first error
    under its column (the CSV columns are named after the model's fields)."""
    try:
        instance.clean_fields(exclude=["id", "created_by", "modified_by"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise row.error(field, " ".join(messages)) from None


def _add_unique(
    rows: dict[Hashable, dict[str, Any]],
    key: Hashable,
    values: dict[str, Any],
    row: CsvRow,
    field: str,
    first_rows: dict[Hashable, int],
) -> None:
    if key in rows:
        raise row.error(field, f"repeats the row {first_rows[key]} entry")
    rows[key] = values
    first_rows[key] = row.number


def load_organisations(
    apps: Any, *, path: Path = DATA_DIR / ORGANISATIONS_CSV, update_existing: bool = False
) -> LoadCounts:
    """Organisations from a CSV with the columns name, acronym, kind, country, website."""
    organisation = apps.get_model("core", "Organisation")
    countries = set(apps.get_model("core", "Country")._default_manager.values_list("pk", flat=True))
    kinds = set(
        apps.get_model("core", "OrganisationType")._default_manager.values_list("pk", flat=True)
    )
    columns = ("name", "acronym", "kind", "country", "website")
    rows: dict[Hashable, dict[str, Any]] = {}
    first_rows: dict[Hashable, int] = {}
    for row in read_csv(path, columns=columns):
        values = {
            "name": row.text("name"),
            "acronym": row.text("acronym", required=False),
            "kind_id": row.choice("kind", kinds),
            "country_id": row.country("country", countries, required=False),
            "website": row.text("website", required=False),
        }
        _validated(row, organisation(**values))
        key = (values["name"], values["country_id"])
        _add_unique(rows, key, values, row, "name", first_rows)
    return _sync(
        organisation,
        rows,
        key=lambda instance: (instance.name, instance.country_id),
        update_existing=update_existing,
    )


def _organisations_by_acronym(apps: Any) -> dict[tuple[str | None, str], list[Any]]:
    found: dict[tuple[str | None, str], list[Any]] = {}
    for organisation in apps.get_model("core", "Organisation")._default_manager.all():
        if organisation.acronym:
            found.setdefault((organisation.country_id, organisation.acronym), []).append(
                organisation
            )
    return found


# The IANA time zone of the reception centres of the RCM member states, for a centre whose row
# names none. Mexico, Canada and the United States span several zones: the capital's is given,
# and a centre elsewhere names its own.
COUNTRY_TIME_ZONES = {
    "BZ": "America/Belize",
    "CA": "America/Toronto",
    "CR": "America/Costa_Rica",
    "DO": "America/Santo_Domingo",
    "GT": "America/Guatemala",
    "HN": "America/Tegucigalpa",
    "MX": "America/Mexico_City",
    "NI": "America/Managua",
    "PA": "America/Panama",
    "SV": "America/El_Salvador",
    "US": "America/New_York",
}


def default_time_zone(country: str | None) -> str:
    """The time zone of a centre of `country` that names none; UTC outside the RCM."""
    return COUNTRY_TIME_ZONES.get((country or "").upper(), "UTC")


def load_reception_centres(
    apps: Any, *, path: Path = DATA_DIR / RECEPTION_CENTRES_CSV, update_existing: bool = False
) -> LoadCounts:
    """Reception centres from a CSV with the columns country, name, city, subdivision (ISO
    3166-2 code, in the centre's country), kind, operator (acronym of an organisation of the
    centre's country, may be empty), daily_capacity, capacity_is_illustrative, and optionally
    time_zone (IANA, e.g. America/Tegucigalpa; empty or missing: the country's,
    `default_time_zone`)."""
    centre = apps.get_model("core", "ReceptionCentre")
    # Migration 0003 runs this loader on the model as it stood before centres had a time zone.
    has_time_zone = any(field.name == "time_zone" for field in centre._meta.concrete_fields)
    countries = set(apps.get_model("core", "Country")._default_manager.values_list("pk", flat=True))
    subdivision_country = dict(
        apps.get_model("core", "Subdivision")._default_manager.values_list("pk", "country_id")
    )
    operators = _organisations_by_acronym(apps)
    columns = (
        "country",
        "name",
        "city",
        "subdivision",
        "kind",
        "operator",
        "daily_capacity",
        "capacity_is_illustrative",
    )
    rows: dict[Hashable, dict[str, Any]] = {}
    first_rows: dict[Hashable, int] = {}
    for row in read_csv(path, columns=columns):
        country = row.country("country", countries)
        operator_id = None
        acronym = row.text("operator", required=False)
        if acronym:
            matches = operators.get((country, acronym), [])
            if len(matches) != 1:
                problem = "names no organisation" if not matches else "names several organisations"
                raise row.error("operator", f"{acronym!r} {problem} of {country}")
            operator_id = matches[0].pk
        values = {
            "country_id": country,
            "name": row.text("name"),
            "city": row.text("city"),
            "subdivision_id": row.subdivision("subdivision", subdivision_country, country=country),
            "kind": row.choice("kind", ReceptionCentreKind.values),
            "operator_id": operator_id,
            "daily_capacity": row.positive_integer("daily_capacity"),
            "capacity_is_illustrative": row.boolean("capacity_is_illustrative"),
        }
        if has_time_zone:
            values["time_zone"] = row.text("time_zone", required=False) or default_time_zone(
                country
            )
        _validated(row, centre(**values))
        _add_unique(rows, (country, values["name"]), values, row, "name", first_rows)
    return _sync(
        centre,
        rows,
        key=lambda instance: (instance.country_id, instance.name),
        update_existing=update_existing,
    )


def load_consulates(
    apps: Any, *, path: Path = DATA_DIR / CONSULATES_CSV, update_existing: bool = False
) -> LoadCounts:
    """Consulates from a CSV with the columns sending_country, host_country, city,
    host_subdivision (ISO 3166-2 code in the host country, may be empty), is_embassy_section."""
    consulate = apps.get_model("core", "Consulate")
    countries = set(apps.get_model("core", "Country")._default_manager.values_list("pk", flat=True))
    subdivision_country = dict(
        apps.get_model("core", "Subdivision")._default_manager.values_list("pk", "country_id")
    )
    columns = ("sending_country", "host_country", "city", "host_subdivision", "is_embassy_section")
    rows: dict[Hashable, dict[str, Any]] = {}
    first_rows: dict[Hashable, int] = {}
    for row in read_csv(path, columns=columns):
        sending = row.country("sending_country", countries)
        host = row.country("host_country", countries)
        if sending == host:
            raise row.error("host_country", "is the sending country; a consulate is abroad")
        values = {
            "sending_country_id": sending,
            "host_country_id": host,
            "city": row.text("city"),
            "host_subdivision_id": row.subdivision(
                "host_subdivision", subdivision_country, country=host, required=False
            ),
            "is_embassy_section": row.boolean("is_embassy_section"),
        }
        _validated(row, consulate(**values))
        _add_unique(rows, (sending, host, values["city"]), values, row, "city", first_rows)
    return _sync(
        consulate,
        rows,
        key=lambda instance: (
            instance.sending_country_id,
            instance.host_country_id,
            instance.city,
        ),
        update_existing=update_existing,
    )


# ---------------------------------------------------------------------------------------------
# Everything


def load_reference_data(
    apps: Any, *, data_dir: Path = DATA_DIR, update_existing: bool = False
) -> dict[str, LoadCounts]:
    """Load or update every reference table, in dependency order, all or nothing.

    `update_existing` also brings organisations, reception centres and consulates back to the
    CSV files, overwriting edits made in the admin."""
    with transaction.atomic():
        return {
            "organisation types": load_organisation_types(apps),
            "countries": load_countries(apps),
            "subdivisions": load_subdivisions(apps),
            "organisations": load_organisations(
                apps, path=data_dir / ORGANISATIONS_CSV, update_existing=update_existing
            ),
            "reception centres": load_reception_centres(
                apps, path=data_dir / RECEPTION_CENTRES_CSV, update_existing=update_existing
            ),
            "consulates": load_consulates(
                apps, path=data_dir / CONSULATES_CSV, update_existing=update_existing
            ),
        }
