"""Country names in real published files resolve to ISO 3166-1 alpha-2 codes, or are named
non-country values; the sample files are read from ../shared/data, never copied here."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pycountry
import pytest

from conftest import SHARED_DATA
from mirador.flows.country_names import (
    Match,
    _keys,
    _pycountry_levels,
    is_aggregate_name,
    is_non_country,
    known_non_country_names,
    read_alias_table,
    resolve_country,
    resolve_country_detail,
    resolve_country_list,
    split_country_list,
)

CBP_FILE = SHARED_DATA / "cbp" / "sbo-encounters-fy22-fy25-aug.csv"
IOM_2020_FILE = SHARED_DATA / "iom_mmp" / "MissingMigrants-Global-2020-01-08T14-05-32.csv"
IOM_2023_FILE = SHARED_DATA / "iom_mmp" / "mmp_global_2014_2023jul_kaggle.csv"
UNDESA_FILE = SHARED_DATA / "undesa" / "UN_MigrantStockByOriginAndDestination_2019_clean.csv"

# Every value in the sample files' country columns that is not a single country. The alias
# table marks each (alpha2 empty); a value outside this list that resolves to no code is a new
# name for the alias table.
SAMPLE_NON_COUNTRY_VALUES = {
    "Other",  # CBP: every citizenship not listed separately
    "Unknown",  # IOM
    "Mixed",  # IOM
    "Mixed/Unknown",  # IOM
    "Channel Islands",  # UN DESA: Jersey and Guernsey together
    "Caribbean",  # UN DESA regions among the destinations
    "Melanesia",
    "Micronesia",
    "Polynesia",
    "South America",
}


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.exists():
        pytest.fail(f"sample file {path} is missing: the tests read ../shared/data/")
    # utf-8-sig: the 2023 IOM file starts with a byte order mark.
    with path.open(encoding="utf-8-sig", newline="") as csv_file:
        reader = csv.reader(csv_file)
        header = next(reader)
        return header, list(reader)


def column_values(path: Path, column: str) -> set[str]:
    header, rows = read_rows(path)
    index = header.index(column)
    return {row[index] for row in rows}


def cbp_citizenships() -> set[str]:
    return column_values(CBP_FILE, "Citizenship Grouping")


def iom_2023_origins() -> set[str]:
    names: set[str] = set()
    for cell in column_values(IOM_2023_FILE, "Country of Origin"):
        names.update(split_country_list(cell))
    return names


def undesa_origins_and_destinations() -> set[str]:
    header, rows = read_rows(UNDESA_FILE)
    assert header[:2] == ["Year", "Dest"]
    return set(header[2:]) | {row[1] for row in rows}


def unresolved(names: set[str]) -> set[str]:
    return {name for name in names if resolve_country(name) is None}


@pytest.mark.parametrize(
    "country_names",
    [cbp_citizenships, iom_2023_origins, undesa_origins_and_destinations],
    ids=["cbp-citizenship", "iom-2023-country-of-origin", "undesa-origin-and-destination"],
)
def test_every_country_name_in_a_sample_file_resolves_or_is_a_named_non_country(
    country_names: Callable[[], set[str]],
) -> None:
    names = country_names()
    assert names
    unknown = unresolved(names) - SAMPLE_NON_COUNTRY_VALUES
    assert not unknown, f"names neither resolved nor listed as non-country: {sorted(unknown)}"
    for name in names - SAMPLE_NON_COUNTRY_VALUES:
        code = resolve_country(name)
        assert code is not None
        assert pycountry.countries.get(alpha_2=code) is not None, (name, code)


def test_sample_non_country_values_are_marked_in_the_alias_table() -> None:
    marked = set(known_non_country_names())
    assert not SAMPLE_NON_COUNTRY_VALUES - marked, sorted(SAMPLE_NON_COUNTRY_VALUES - marked)
    for name in SAMPLE_NON_COUNTRY_VALUES:
        assert is_non_country(name)
        assert resolve_country(name) is None


def test_the_cbp_file_has_other_as_its_only_non_country_citizenship() -> None:
    assert unresolved(cbp_citizenships()) == {"Other"}


def test_the_undesa_file_names_channel_islands_and_regions_but_no_other_non_country() -> None:
    assert unresolved(undesa_origins_and_destinations()) == {
        "Channel Islands",
        "Caribbean",
        "Melanesia",
        "Micronesia",
        "Polynesia",
        "South America",
    }


def test_the_2020_iom_layout_has_no_country_column_and_its_regions_resolve_to_no_country() -> None:
    header, _rows = read_rows(IOM_2020_FILE)
    assert not [column for column in header if "country" in column.lower()]
    for path in (IOM_2020_FILE, IOM_2023_FILE):
        for column in ("Region of Incident", "UNSD Geographical Grouping"):
            regions = column_values(path, column) - {""}
            assert regions
            countries = {region for region in regions if resolve_country(region) is not None}
            assert not countries, (path.name, column, sorted(countries))
            assert all(is_aggregate_name(region) for region in regions), (
                path.name,
                column,
                sorted(region for region in regions if not is_aggregate_name(region)),
            )


@pytest.mark.parametrize(
    ("name", "alpha2"),
    [
        ("El Salvador", "SV"),
        ("Mexico", "MX"),
        ("México", "MX"),
        ("MEXICO", "MX"),
        ("  Guatemala ", "GT"),
        ("MEX", "MX"),
        ("hn", "HN"),
        ("Estados Unidos", "US"),
        ("United States of America", "US"),
        ("EE.UU.", "US"),
        ("China, Peoples Republic Of", "CN"),
        ("Bolivia (Plurinational State of)", "BO"),
        ("Venezuela (Bolivarian Republic of)", "VE"),
        ("Iran (Islamic Republic of)", "IR"),
        ("Korea, Republic of", "KR"),
        ("Republic of Korea", "KR"),
        ("Corea del Sur", "KR"),
        ("Dem. People's Republic of Korea", "KP"),
        ("Congo, The Democratic Republic of the", "CD"),
        ("Democratic Republic of the Congo", "CD"),
        ("Congo", "CG"),
        ("Bolivia, Plurinational State of", "BO"),
        ("Micronesia (Fed. States of)", "FM"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Turquía", "TR"),
        ("Côte d'Ivoire", "CI"),
        ("Cote d’Ivoire", "CI"),
        ("Costa de Marfil", "CI"),
        ("Réunion", "RE"),
        ("China, Hong Kong SAR", "HK"),
        ("Gambia, The", "GM"),
        ("The Bahamas", "BS"),
        ("St. Lucia", "LC"),
        ("Viet Nam", "VN"),
        ("State of Palestine", "PS"),
        ("Palestinian Territories", "PS"),
    ],
)
def test_a_country_name_resolves_to_its_alpha2_code(name: str, alpha2: str) -> None:
    assert resolve_country(name) == alpha2


@pytest.mark.parametrize(
    "name",
    ["Other", "Unknown", "Mixed", "WORLD", "Sub-Saharan Africa", "Other North", "Horn of Africa"],
)
def test_a_value_that_is_not_one_country_resolves_to_none_as_a_known_non_country(
    name: str,
) -> None:
    resolution = resolve_country_detail(name)
    assert resolution.alpha2 is None
    assert resolution.match is Match.NON_COUNTRY
    assert resolution.is_known
    assert resolution.note


def test_an_unknown_name_resolves_to_none_and_is_not_known() -> None:
    resolution = resolve_country_detail("Atlantis")
    assert resolution.alpha2 is None
    assert resolution.match is Match.UNKNOWN
    assert not resolution.is_known
    assert not is_non_country("Atlantis")


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_cell_resolves_to_none_as_empty(blank: str) -> None:
    assert resolve_country_detail(blank).match is Match.EMPTY


def test_a_resolution_says_how_the_name_matched() -> None:
    assert resolve_country_detail("Mexico").match is Match.NAME
    assert resolve_country_detail("Estados Unidos").match is Match.SPANISH
    assert resolve_country_detail("MEX").match is Match.CODE
    assert resolve_country_detail("Turkey").match is Match.ALIAS


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("Guatemala,Mexico", ["Guatemala", "Mexico"]),
        ("Guatemala, Honduras, El Salvador", ["Guatemala", "Honduras", "El Salvador"]),
        ("Unknown", ["Unknown"]),
        ("Mixed", ["Mixed"]),
        ("Mixed/Unknown,Morocco", ["Mixed/Unknown", "Morocco"]),
        ("Mixed,Unknown", ["Mixed", "Unknown"]),
        ("Korea, Republic of,Mexico", ["Korea, Republic of", "Mexico"]),
        (
            "Congo, The Democratic Republic of the, Bolivia, Plurinational State of",
            ["Congo, The Democratic Republic of the", "Bolivia, Plurinational State of"],
        ),
        ("Honduras,Congo", ["Honduras", "Congo"]),
        (
            "Saint Helena, Ascension and Tristan da Cunha",
            ["Saint Helena, Ascension and Tristan da Cunha"],
        ),
        ("Gambia, The,Senegal", ["Gambia, The", "Senegal"]),
        ("China, Hong Kong SAR; Mexico", ["China, Hong Kong SAR", "Mexico"]),
        ("Guatemala/Honduras", ["Guatemala", "Honduras"]),
        ("Guatemala,,Mexico,", ["Guatemala", "Mexico"]),
        ("Atlantis, Mexico", ["Atlantis", "Mexico"]),
        ("", []),
        ("  ", []),
    ],
)
def test_a_cell_listing_several_countries_splits_into_whole_names(
    cell: str, names: list[str]
) -> None:
    assert split_country_list(cell) == names


def test_a_listed_cell_resolves_each_name() -> None:
    resolutions = resolve_country_list("Colombia,Mixed,Venezuela (Bolivarian Republic of)")
    assert [resolution.alpha2 for resolution in resolutions] == ["CO", None, "VE"]
    assert resolutions[1].match is Match.NON_COUNTRY


def test_every_alias_is_needed_and_no_non_country_value_is_a_country_name() -> None:
    pycountry_keys: dict[str, str | None] = {}
    for _match, names in _pycountry_levels():
        for name, alpha2, _note in names:
            for key in _keys(name):
                pycountry_keys.setdefault(key, alpha2)
    for row in read_alias_table():
        clashes = {key: pycountry_keys[key] for key in _keys(row.alias) if key in pycountry_keys}
        assert not clashes, f"line {row.line}: {row.alias!r} is already a pycountry name {clashes}"
        assert row.note, f"line {row.line}: {row.alias!r} has no note"
