"""Country profiles from the real samples: each member's roles as origin, transit and
destination and its corridors, with the expected figures computed here from the published
files (UN DESA migrant stock, US CBP encounters, IOM Missing Migrants incidents) and the
population sample, independently of the import engine; the mission lines of each role; the
returns as events and persons after disclosure control."""

from __future__ import annotations

import csv
import datetime
import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from mirador.analytics import profiles
from mirador.analytics.indicators import POPULATION_SAMPLE
from mirador.analytics.tests.conftest import _imported, cbp_citizenship, cbp_month, cbp_rows
from mirador.core.errors import NotFoundError
from mirador.core.models import Country, RcmStatus
from mirador.flows.country_names import resolve_country
from mirador.flows.models import ImportBatch

pytestmark = pytest.mark.django_db

UNDESA_SAMPLE = SHARED_DATA / "undesa" / "UN_MigrantStockByOriginAndDestination_2019_clean.csv"
IOM_SAMPLE = SHARED_DATA / "iom_mmp" / "mmp_global_2014_2023jul_kaggle.csv"
STOCK_YEAR = "2019"
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
MEMBERS = ("BZ", "CA", "CR", "DO", "GT", "HN", "MX", "NI", "PA", "SV", "US")


def _status(profile: profiles.CountryProfile, role: str) -> str:
    return profile.role(role).status


def _figure(profile: profiles.CountryProfile, code: str) -> profiles.IndicatorFigure:
    return next(
        figure for role in profile.roles for figure in role.figures if figure.spec.code == code
    )


# --- the published files, read here ------------------------------------------------------------


def _stock_rows() -> tuple[list[str], list[list[str]]]:
    with UNDESA_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], [row for row in rows[1:] if row[0] == STOCK_YEAR]


def _stock_pairs() -> Counter[tuple[str, str]]:
    """(origin, destination) -> persons, countries only, as the file gives them."""
    header, rows = _stock_rows()
    origins = [resolve_country(name) for name in header]
    pairs: Counter[tuple[str, str]] = Counter()
    for row in rows:
        destination = resolve_country(row[1])
        if destination is None:
            continue  # a region
        for origin, cell in zip(origins[2:], row[2:], strict=True):
            if origin is not None and cell.strip().isdigit():
                pairs[(origin, destination)] += int(cell)
    return pairs


def _population() -> dict[tuple[str, str], int]:
    with POPULATION_SAMPLE.open(encoding="utf-8", newline="") as handle:
        return {
            (resolve_country(row["Country"]) or "", row["Year"]): int(row["Population"])
            for row in csv.DictReader(handle)
        }


def _population_near(country: str, year: str) -> int:
    """The stated rule: the same year, else the nearest year loaded, an earlier one first."""
    years = [loaded for code, loaded in _population() if code == country]
    chosen = min(years, key=lambda loaded: (abs(int(loaded) - int(year)), loaded > year))
    return _population()[(country, chosen)]


def _iom_rows() -> list[dict[str, str]]:
    with IOM_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _iom_month(row: dict[str, str]) -> datetime.date:
    return datetime.date(int(row["Incident year"]), MONTHS.index(row["Reported Month"]) + 1, 1)


def _latest_twelve_months(months: set[datetime.date]) -> tuple[datetime.date, datetime.date]:
    last = max(months)
    index = last.year * 12 + last.month - 1 - 11
    return datetime.date(index // 12, index % 12 + 1, 1), last


def _count(cell: str) -> int:
    return int(cell) if re.fullmatch(r"\d+", cell.strip()) else 0


# --- fixtures: the samples, cut to what the profiles read, in their own formats ----------------


@pytest.fixture
def stock_batch(tmp_path: Path) -> ImportBatch:
    """The 2019 rows of the UN DESA table (the profiles read its latest year only)."""
    header, rows = _stock_rows()
    path = tmp_path / "UN_MigrantStock_2019.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return _imported(format_code="undesa-migrant-stock", path=path)


@pytest.fixture
def iom_batch(tmp_path: Path) -> ImportBatch:
    """The IOM incidents of the file's latest twelve months, in its own layout."""
    rows = _iom_rows()
    start, end = _latest_twelve_months({_iom_month(row) for row in rows})
    path = tmp_path / "mmp_latest_12_months.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(row for row in rows if start <= _iom_month(row) <= end)
    return _imported(format_code="iom-mmp", path=path)


# --- roles --------------------------------------------------------------------------------------


def test_stock_roles_are_the_shares_of_the_population_the_file_and_the_population_give(
    stock_batch: ImportBatch, population_batch: ImportBatch
) -> None:
    pairs = _stock_pairs()
    summary = {member.country.pk: member for member in profiles.members_summary()}
    assert set(summary) == set(MEMBERS)
    for code in MEMBERS:
        emigrants = sum(value for (origin, _to), value in pairs.items() if origin == code)
        immigrants = sum(value for (_from, to), value in pairs.items() if to == code)
        population = _population_near(code, STOCK_YEAR)
        roles = {role.role: role for role in summary[code].roles}
        origin = next(f for f in roles["origin"].figures if f.spec.code == "emigrant-stock")
        destination = next(
            f for f in roles["destination"].figures if f.spec.code == "immigrant-stock"
        )
        assert (origin.value, destination.value) == (emigrants, immigrants), code
        assert origin.metric == round(100 * emigrants / population, 2)
        assert destination.metric == round(100 * immigrants / population, 2)
        assert origin.window is not None and origin.window.label == STOCK_YEAR
        # Only the stock is loaded: it alone decides origin and destination.
        assert roles["origin"].status == (
            profiles.MEASURED if 100 * emigrants / population >= 4 else profiles.BELOW_THRESHOLD
        ), code
        assert roles["destination"].status == (
            profiles.MEASURED if 100 * immigrants / population >= 4 else profiles.BELOW_THRESHOLD
        ), code
        assert roles["transit"].status == profiles.NO_DATA
        assert str(stock_batch.pk) in origin.batches and str(population_batch.pk) in origin.batches
    # The file is what it is: Mexico and El Salvador have many emigrants, the United States and
    # Canada many immigrants.
    assert {summary[code].roles[0].status for code in ("MX", "SV")} == {profiles.MEASURED}
    assert {summary[code].roles[2].status for code in ("US", "CA")} == {profiles.MEASURED}


def test_encounters_count_for_the_citizens_origin_and_for_the_reporting_destination(
    cbp_batch: ImportBatch, population_batch: ImportBatch
) -> None:
    rows = cbp_rows()
    start, end = _latest_twelve_months({cbp_month(row) for row in rows})
    window = [row for row in rows if start <= cbp_month(row) <= end]
    by_citizenship: Counter[str] = Counter()
    for row in window:
        by_citizenship[cbp_citizenship(row)] += int(row["Encounter Count"])
    summary = {member.country.pk: member for member in profiles.members_summary()}
    year = f"{end:%Y}"
    for code in MEMBERS:
        figure = next(
            f
            for f in summary[code].roles[0].figures
            if f.spec.code == "citizens-encountered-abroad"
        )
        if code not in by_citizenship:
            assert not figure.has_figure and figure.meets is None, code
            continue
        rate = round(100_000 * by_citizenship[code] / _population_near(code, year), 1)
        assert (figure.value, figure.metric) == (by_citizenship[code], rate), code
        assert figure.meets == (rate >= 100)
        assert figure.window is not None and figure.window.label == f"{start:%Y-%m} – {end:%Y-%m}"
    # CBP reports the United States' border: every encounter is of a non-citizen ("Other"
    # citizenships included, none is of the United States).
    united_states = next(
        f for f in summary["US"].roles[2].figures if f.spec.code == "non-citizens-encountered"
    )
    assert united_states.value == sum(by_citizenship.values()) and not united_states.at_least
    assert summary["US"].roles[2].status == profiles.MEASURED
    # Nobody else reports encounters: their destination role has no encounters figure.
    assert all(
        not next(
            f for f in summary[code].roles[2].figures if f.spec.code == "non-citizens-encountered"
        ).has_figure
        for code in MEMBERS
        if code != "US"
    )


def _iom_origin(row: dict[str, str]) -> str:
    names = [name.strip() for name in row["Country of Origin"].split(",") if name.strip()]
    if len(names) != 1:
        return "_M" if names else "_U"
    return resolve_country(names[0]) or "_U"


def _dead_and_missing(row: dict[str, str]) -> int:
    return _count(row["Number of Dead"]) + _count(row["Minimum Estimated Number of Missing"])


def test_transit_on_routes_counts_others_than_its_citizens_and_the_destinations(
    iom_batch: ImportBatch,
) -> None:
    rows = _iom_rows()
    start, end = _latest_twelve_months({_iom_month(row) for row in rows})
    window = [
        row
        for row in rows
        if start <= _iom_month(row) <= end
        and not row["Minimum Estimated Number of Missing"].strip().startswith("-")
        and not row["Number of Survivors"].strip().startswith("-")
    ]
    # On the US-Mexico border crossing, through Mexico to the United States.
    expected = sum(
        _dead_and_missing(row)
        for row in window
        if row["Migration route"] == "US-Mexico border crossing"
        and _iom_origin(row) not in {"MX", "US", "_U", "_M"}
    )
    mexico = profiles.country_profile(code="MX")
    figure = _figure(mexico, "dead-missing-on-routes")
    assert figure.value == expected or (figure.at_least and (figure.value or 0) <= expected)
    assert expected >= 10 and _status(mexico, "transit") == profiles.MEASURED
    # Through the Darién into Panama, on the way north.
    darien = sum(
        _dead_and_missing(row)
        for row in window
        if row["Migration route"] == "Darien" and _iom_origin(row) not in {"PA", "_U", "_M"}
    )
    panama = _figure(profiles.country_profile(code="PA"), "dead-missing-on-routes")
    assert panama.value == darien or (panama.at_least and (panama.value or 0) <= darien)
    # No route of the table crosses Canada.
    assert not _figure(profiles.country_profile(code="CA"), "dead-missing-on-routes").has_figure
    # Dead and missing of its own nationality are its origin role's.
    own = sum(_dead_and_missing(row) for row in window if _iom_origin(row) == "MX")
    citizens = _figure(mexico, "citizens-dead-missing")
    assert citizens.value == own and citizens.meets == (own >= 10)
    assert str(iom_batch.pk) in figure.batches


def test_transit_on_its_territory_leaves_out_the_routes_that_lead_to_it(
    iom_batch: ImportBatch,
) -> None:
    rows = _iom_rows()
    start, end = _latest_twelve_months({_iom_month(row) for row in rows})
    on_territory: Counter[str] = Counter()
    arrived: Counter[str] = Counter()
    for row in rows:
        if not start <= _iom_month(row) <= end or row["Number of Survivors"].startswith("-"):
            continue
        if row["Minimum Estimated Number of Missing"].startswith("-"):
            continue
        place = profiles.incident_country(row["Location of death"])
        origin = _iom_origin(row)
        if place is None or origin in {place, "_U", "_M"}:
            continue
        if row["Migration route"] == "US-Mexico border crossing" and place == "US":
            arrived[place] += _dead_and_missing(row)
            continue
        on_territory[place] += _dead_and_missing(row)
    united_states = _figure(profiles.country_profile(code="US"), "dead-missing-on-territory")
    # Those who died in the United States on the crossing had reached it: not transit.
    assert arrived["US"] > 0
    assert (united_states.value or 0) <= on_territory["US"]
    mexico = _figure(profiles.country_profile(code="MX"), "dead-missing-on-territory")
    assert mexico.value == on_territory["MX"] or (
        mexico.at_least and (mexico.value or 0) <= on_territory["MX"]
    )
    assert on_territory["MX"] >= 10 and mexico.value and mexico.value > 0


def test_the_list_and_each_profile_publish_the_same_figures(
    iom_batch: ImportBatch, cbp_batch: ImportBatch, population_batch: ImportBatch
) -> None:
    def figures(roles: list[profiles.RoleResult]) -> list[tuple[object, ...]]:
        return [(f.spec.code, f.value, f.at_least, f.meets) for role in roles for f in role.figures]

    for member in profiles.members_summary():
        profile = profiles.country_profile(code=member.country.pk)
        assert figures(profile.roles) == figures(member.roles), member.country.pk


def test_an_incidents_country_is_the_one_its_location_names_last() -> None:
    locate = profiles.incident_country
    assert locate("Pima County Office of the Medical Examiner, Arizona, USA (see coordinates)") == (
        "US"
    )
    assert locate("Slope of Cerro Las Bolsas, Zacatecas Mexico") == "MX"
    assert locate("Open Desert, Ocotillo, California, United States of America, 92259") == "US"
    assert locate("Huimanguillo, Tabasco, Mexico") == "MX"
    assert locate("Metetí, Darién, Panamá") == "PA"
    # A state's abbreviation is no country code, and no country named is no country.
    assert locate("All American Canal, CA near Calexico") is None
    assert locate("Brooks County, Texas") is None


# --- corridors ---------------------------------------------------------------------------------


def test_corridors_are_the_largest_pairs_from_and_to_the_country_in_the_file(
    stock_batch: ImportBatch,
) -> None:
    pairs = _stock_pairs()
    for code in ("MX", "HN", "CR"):
        profile = profiles.country_profile(code=code)
        group = next(group for group in profile.corridors if group.dataset == "migrant-stock")
        going = sorted(
            ((value, to) for (origin, to), value in pairs.items() if origin == code and to != code),
            key=lambda pair: (-pair[0], pair[1]),
        )[: profiles.CORRIDORS_SHOWN]
        coming = sorted(
            ((value, origin) for (origin, to), value in pairs.items() if to == code),
            key=lambda pair: (-pair[0], pair[1]),
        )[: profiles.CORRIDORS_SHOWN]
        assert [(c.origin, c.destination, c.value) for c in group.outgoing] == [
            (code, to, value) for value, to in going
        ]
        assert [(c.origin, c.destination, c.value) for c in group.incoming] == [
            (origin, code, value) for value, origin in coming
        ]
        assert all(str(stock_batch.pk) in c.batches for c in group.outgoing + group.incoming)
    # The largest corridor of the region.
    mexico = profiles.country_profile(code="MX").corridors[0].outgoing[0]
    assert (mexico.origin, mexico.destination) == ("MX", "US")


def test_encounter_corridors_go_from_the_citizenship_to_the_reporting_country(
    cbp_batch: ImportBatch,
) -> None:
    guatemala = profiles.country_profile(code="GT")
    group = next(group for group in guatemala.corridors if group.dataset == "border-encounters")
    figure = _figure(guatemala, "citizens-encountered-abroad")
    assert [(c.origin, c.destination, c.value) for c in group.outgoing] == [
        ("GT", "US", figure.value)
    ]
    united_states = profiles.country_profile(code="US")
    group = next(g for g in united_states.corridors if g.dataset == "border-encounters")
    # "Other" citizenships are no corridor.
    assert {c.origin for c in group.incoming} <= {"GT", "HN", "MX", "SV"}
    assert [c.value for c in group.incoming] == sorted(
        (c.value for c in group.incoming), reverse=True
    )


# --- mission lines ------------------------------------------------------------------------------


def test_each_role_lists_the_mission_lines_that_concern_it_and_no_other() -> None:
    lines = profiles.mission_lines()
    assert lines and all(line.text_en and line.text_es for line in lines)
    for role in profiles.ROLES:
        listed = profiles.mission_lines_for(role)
        assert listed, role
        assert {line.id for line in listed} == {line.id for line in lines if role in line.roles}
    origin_ids = {line.id for line in profiles.mission_lines_for(profiles.ORIGIN)}
    destination_ids = {line.id for line in profiles.mission_lines_for(profiles.DESTINATION)}
    # Reintegration is the country of origin's; integration and regularisation the
    # destination's.
    assert {"D-S10", "D-R3"} <= origin_ids and not {"D-S10", "D-R3"} & destination_ids
    assert {"D-I1", "D-I8"} <= destination_ids and not {"D-I1", "D-I8"} & origin_ids
    profile = profiles.country_profile(code="HN")
    for result in profile.roles:
        assert [line.id for line in result.lines] == [
            line.id for line in profiles.mission_lines_for(result.role)
        ]


def test_every_mission_line_is_an_id_of_mission_md() -> None:
    mission = SHARED_DATA.parent / "MISSION.md"
    if not mission.is_file():
        pytest.skip("MISSION.md is not beside the shared data")
    text = mission.read_text(encoding="utf-8")
    ids = set(re.findall(r"\b([DW]-[A-Za-z]+\d*)\b", text))
    assert {line.id for line in profiles.mission_lines()} <= ids


def test_a_malformed_mission_lines_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lines.toml"
    path.write_text('[[lines]]\nid = "D-R2"\nroles = ["home"]\ntext_en = "a"\ntext_es = "b"\n')
    with pytest.raises(profiles.ProfileDataError):
        profiles.mission_lines(path)


# --- members, returns --------------------------------------------------------------------------


def test_only_member_states_have_a_profile() -> None:
    members = {country.pk for country in profiles.member_countries()}
    assert members == set(
        Country.objects.filter(rcm_status=RcmStatus.MEMBER).values_list("pk", flat=True)
    )
    assert members == set(MEMBERS)
    with pytest.raises(profiles.NotMemberError):
        profiles.country_profile(code="CO")
    for code in ("ZZ", "HND", "", "h"):
        with pytest.raises(NotFoundError):
            profiles.country_profile(code=code)
    assert profiles.country_profile(code="hn").country.pk == "HN"


def _persons_file(tmp_path: Path, rows: list[tuple[str, str, str, int]]) -> Path:
    """A roll-up file of the returns-persons format (month, from, measure, count) for HN."""
    path = tmp_path / "returns-persons-HN.csv"
    lines = ["month,reporting_country,from_country,age_group,measure,count"]
    lines += [
        f"{month},HN,{origin},Y_GE18,{measure},{count}" for month, origin, measure, count in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_returns_are_reported_as_events_and_persons_with_the_re_return_rate(
    tmp_path: Path,
) -> None:
    rows = [
        ("2022-01", "US", "return-events", 40),
        ("2022-01", "US", "persons-returned", 30),
        ("2022-01", "US", "persons-followed-12m", 30),
        ("2022-01", "US", "persons-returned-again-12m", 6),
        ("2022-02", "MX", "return-events", 25),
        ("2022-02", "MX", "persons-returned", 20),
        ("2022-02", "MX", "persons-followed-12m", 20),
        ("2022-02", "MX", "persons-returned-again-12m", 3),
        # 2023: in follow-up, no re-return figures yet.
        ("2023-05", "US", "return-events", 12),
        ("2023-05", "US", "persons-returned", 11),
    ]
    _imported(format_code="mirador-returns-persons", path=_persons_file(tmp_path, rows))
    returns = profiles.country_profile(code="HN").returns
    assert returns is not None
    years = {year.year: year for year in returns.years}
    assert set(years) == {"2022", "2023"}
    assert (years["2022"].events, years["2022"].persons, years["2022"].followed) == (65, 50, 50)
    assert years["2022"].returned_again == 9 and years["2022"].rate == round(9 / 50, 4)
    assert (years["2023"].events, years["2023"].persons) == (12, 11)
    assert years["2023"].followed is None and years["2023"].rate is None
    assert returns.total.persons == 61 and returns.total.events == 77
    assert returns.total.rate == round(9 / 50, 4)
    # A country without case records has no such section.
    assert profiles.country_profile(code="GT").returns is None


def test_a_small_re_return_count_is_withheld_and_so_is_its_rate(tmp_path: Path) -> None:
    rows = [
        ("2022-01", "US", "return-events", 25),
        ("2022-01", "US", "persons-returned", 20),
        ("2022-01", "US", "persons-followed-12m", 20),
        ("2022-01", "US", "persons-returned-again-12m", 3),
    ]
    _imported(format_code="mirador-returns-persons", path=_persons_file(tmp_path, rows))
    returns = profiles.country_profile(code="HN").returns
    assert returns is not None
    year = returns.years[0]
    assert (year.persons, year.followed) == (20, 20)
    assert year.returned_again is None and year.rate is None


def test_a_year_followed_with_nobody_back_again_has_a_rate_of_zero(tmp_path: Path) -> None:
    rows = [
        ("2022-03", "US", "return-events", 14),
        ("2022-03", "US", "persons-returned", 14),
        ("2022-03", "US", "persons-followed-12m", 14),
    ]
    _imported(format_code="mirador-returns-persons", path=_persons_file(tmp_path, rows))
    returns = profiles.country_profile(code="HN").returns
    assert returns is not None
    assert (returns.years[0].returned_again, returns.years[0].rate) == (0, 0.0)
