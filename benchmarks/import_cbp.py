"""Benchmark: importing a 5-million-row CBP-format file into PostgreSQL, against COPY.

Run it from the checkout, with PostgreSQL running:

    .venv/bin/python benchmarks/import_cbp.py                      # 5 000 000 rows
    .venv/bin/python benchmarks/import_cbp.py --rows 200000        # a quick run
    .venv/bin/python benchmarks/import_cbp.py --database-url postgresql://USER@HOST:PORT/NAME

Goals (the project's issue): `mirador import cbp-sbo-encounters FILE` (every cell checked,
provenance kept: batch, file hash, source row) takes at least half the rows per second of
PostgreSQL's own COPY of the same rows into a bare table, measured in the same run, and its
peak memory stays under 300 MiB whatever the file's size (the file is streamed, never held).

What it does:
1. Writes, streamed, into a temporary directory, a synthetic CSV laid out exactly as CBP's
   published `sbo-encounters-fy22-fy25-aug.csv` (../shared/data/cbp): same header, the
   sample's own values of every column (all 48 combinations of its components, demographic
   groups, titles of authority and encounter types) and its encounter counts, drawn at
   random; every ISO 3166-1 country under its ISO name (each checked with
   `flows.country_names.resolve_country`) and "Other" as citizenships; and as many fiscal
   years back from 2025 as the rows need (35 for 5 million, from FY1991), since the mapping
   refuses two rows with the same coordinates and the sample's own cross product is a few
   thousand rows.
2. Baseline: COPY ... FROM STDIN (FORMAT csv, HEADER) of that file, streamed from this
   process as the import streams it, into a bare table with the CSV's nine columns (text,
   and an integer count) and no index, key or constraint, committed. It copies the CSV's rows
   as they are rather than the mapped columns the import writes: the issue asks for "the same
   rows", and the rows as they are is what PostgreSQL can take at best from this file, with
   no work of ours in between, so the ratio measures the whole cost of the import (reading,
   checking, mapping to codes, the duplicate check, the real table's indexes and
   constraints), which is what a user waits for.
3. Runs `mirador import cbp-sbo-encounters FILE` in a child process (the real command:
   full validation, provenance, the real tables with their indexes and constraints, one
   transaction), timed from start to exit, and reads its peak resident memory from the
   kernel (os.wait4's ru_maxrss, the child alone). The same with the first 1 000 000 rows
   (`--small-rows`) shows whether memory grows with the file.
4. Shows where the time goes on the database's side: the rows the import stored are
   exported and COPYed back, committed, into a bare table of the same columns, and into a
   copy of flows_seriesvalue (one narrow row per figure, flows migration 0007) with its
   primary key and checks. The second is about as fast as any import into the present schema
   can be, Python or not.
5. Removes what it added: the baseline table, and each import's batch and observations
   right after it is measured. A database it had to create (the default, mirador_bench) is
   dropped at the end; one that existed is kept, without the benchmark's rows.

Prints both rates, the ratio and the peak memory, and as its last line one JSON object:
{"rows", "copy_rows_per_s", "import_rows_per_s", "ratio", "peak_rss_mib", "peak_rss_mib_1m",
...}. A benchmark, never a timed test.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pycountry
from psycopg import sql

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))

from mirador.flows.country_names import resolve_country  # noqa: E402

SAMPLE = CHECKOUT.parent / "shared" / "data" / "cbp" / "sbo-encounters-fy22-fy25-aug.csv"
MIRADOR = CHECKOUT / ".venv" / "bin" / "mirador"
FORMAT = "cbp-sbo-encounters"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/mirador_bench"
LAST_FISCAL_YEAR = 2025
# The fiscal year starts in October, as the sample lists its months.
FISCAL_MONTHS = ("OCT", "NOV", "DEC", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP")
BASELINE_TABLE = "benchmark_copy_baseline"
MAPPED_TABLE = "benchmark_copy_mapped"
# The columns flows.storage writes.
MAPPED_COLUMNS = ("series_id", "period", "value", "source_row")
COPY_BLOCK = 1 << 20


@dataclass(frozen=True)
class Sample:
    header: list[str]
    # Every (component, demographic, title of authority, encounter type) of the sample's values
    combinations: list[tuple[str, ...]]
    month_grouping: dict[str, str]
    counts: list[str]


def read_sample() -> Sample:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    combinations = list(
        itertools.product(
            *(
                sorted({row[column] for row in rows})
                for column in ("Component", "Demographic", "Title of Authority", "Encounter Type")
            )
        )
    )
    month_grouping: dict[str, str] = {}
    for row in rows:
        month_grouping.setdefault(row["Month (abbv)"], row["Month Grouping"])
    return Sample(
        header=header,
        combinations=combinations,
        month_grouping=month_grouping,
        counts=[row["Encounter Count"] for row in rows],
    )


def citizenship_names() -> list[str]:
    """Every ISO 3166-1 country under its ISO name, one name per code, as the importer
    resolves it, and "Other" (the mapping's _O)."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        if resolve_country(country.name) == country.alpha_2:
            names.setdefault(country.alpha_2, country.name)
    return ["Other", *sorted(names.values())]


def _quoted(cell: str) -> str:
    if any(character in cell for character in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def write_file(path: Path, rows: int, sample: Sample, names: list[str]) -> int:
    """Write `rows` data rows (fiscal year by fiscal year, month by month, as CBP lists them);
    returns how many fiscal years they span."""
    per_month = len(sample.combinations) * len(names)
    years = math.ceil(rows / (per_month * len(FISCAL_MONTHS)))
    first_year = LAST_FISCAL_YEAR - years + 1
    if first_year < 1901:
        raise SystemExit(f"{rows} rows would need fiscal years before 1901; ask for fewer.")
    # The part of a row after the month, built once per combination and name.
    middles = [
        ",".join((component, demographic, _quoted(name), authority, encounter_type))
        for component, demographic, authority, encounter_type in sample.combinations
        for name in names
    ]
    randomness = random.Random(2025)  # noqa: S311 (synthetic figures, not security)
    counts = itertools.cycle(randomness.choices(sample.counts, k=100_003))
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(sample.header) + "\n")
        for year in range(first_year, LAST_FISCAL_YEAR + 1):
            label = f"{year} (FYTD)" if year == LAST_FISCAL_YEAR else str(year)
            for month in FISCAL_MONTHS:
                start = f"{label},{sample.month_grouping.get(month, 'FYTD')},{month},"
                take = min(per_month, rows - written)
                handle.writelines(
                    f"{start}{middle},{count}\n"
                    for middle, count in zip(middles[:take], counts, strict=False)
                )
                written += take
                if written == rows:
                    return years
    return years


# --- The database --------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(url: str) -> bool:
    """Create the database if it is missing; True if it was created here."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists:
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def mirador_environment(url: str, data_dir: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["MIRADOR_DATABASE_URL"] = url
    environment.setdefault("MIRADOR_DATA_DIR", str(data_dir))
    environment["MIRADOR_LANGUAGE"] = "en"
    return environment


def migrate(environment: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603 (our own command)
        [str(MIRADOR), "migrate", "--verbosity", "0"],
        env=environment,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def copy_baseline(url: str, path: Path) -> float:
    """Seconds to COPY the file's rows, as they are, into a bare table, committed."""
    with psycopg.connect(url) as connection:
        connection.execute(
            sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(BASELINE_TABLE))
        )
        connection.execute(
            sql.SQL(
                "CREATE TABLE {} (fiscal_year text, month_grouping text, month text, "
                "component text, demographic text, citizenship text, authority text, "
                "encounter_type text, encounter_count integer)"
            ).format(sql.Identifier(BASELINE_TABLE))
        )
        connection.commit()
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy(
                sql.SQL("COPY {} FROM STDIN (FORMAT csv, HEADER true)").format(
                    sql.Identifier(BASELINE_TABLE)
                )
            ) as copy,
            path.open("rb") as handle,
        ):
            while block := handle.read(COPY_BLOCK):
                copy.write(block)
        connection.commit()
        elapsed = time.perf_counter() - started
        copied = connection.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(BASELINE_TABLE))
        ).fetchone()
        connection.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(BASELINE_TABLE)))
        connection.commit()
    return elapsed if copied else math.nan


@dataclass(frozen=True)
class ImportRun:
    seconds: float
    cpu_seconds: float  # the child's own (user and system): on a busy machine, wall time is not
    peak_rss_mib: float
    output: str


def run_import(path: Path, environment: dict[str, str]) -> ImportRun:
    """Run `mirador import` in a child process: wall time and the child's own peak RSS."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(  # noqa: S603 (our own command)
            [str(MIRADOR), "import", FORMAT, str(path)], env=environment, stdout=out, stderr=err
        )
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        output = (out.read() + err.read()).decode("utf-8", "replace").strip()
    if child.returncode != 0:
        raise SystemExit(f"mirador import failed ({child.returncode}): {output[:2000]}")
    # ru_maxrss is in KiB on Linux.
    return ImportRun(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,
        output=output,
    )


def copy_mapped_rows(url: str, path: Path, work: Path) -> tuple[float, float]:
    """Where the time goes on the database's side: the figures the import stored (the rows of
    flows_seriesvalue, five narrow columns), exported, then COPYed back (a) into a bare table
    of the same columns and (b) into a copy of flows_seriesvalue with its primary key and
    checks, each committed. Seconds of each."""
    exported = work / "mapped-rows.tsv"
    columns = sql.SQL(", ").join(sql.Identifier(column) for column in MAPPED_COLUMNS)
    timings: list[float] = []
    with psycopg.connect(url) as connection:
        with (
            connection.cursor() as cursor,
            cursor.copy(
                sql.SQL(
                    "COPY (SELECT {} FROM flows_seriesvalue WHERE series_id IN ("
                    "SELECT s.id FROM flows_series s JOIN flows_importbatch b ON b.id = s.batch_id "
                    "WHERE b.format_code = %s AND b.file_name = %s)) TO STDOUT"
                ).format(columns),
                (FORMAT, path.name),
            ) as copy,
            exported.open("wb") as handle,
        ):
            for block in copy:
                handle.write(block)
        shapes = (
            "CREATE TABLE {} (LIKE flows_seriesvalue INCLUDING DEFAULTS)",
            "CREATE TABLE {} (LIKE flows_seriesvalue INCLUDING ALL)",
        )
        for shape in shapes:
            table = sql.Identifier(MAPPED_TABLE)
            connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
            connection.execute(sql.SQL(shape).format(table))
            connection.commit()
            started = time.perf_counter()
            with (
                connection.cursor() as cursor,
                cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(table, columns)) as copy,
                exported.open("rb") as handle,
            ):
                while block := handle.read(COPY_BLOCK):
                    copy.write(block)
            connection.commit()
            timings.append(time.perf_counter() - started)
            connection.execute(sql.SQL("DROP TABLE {}").format(table))
            connection.commit()
    exported.unlink()
    return timings[0], timings[1]


def remove_batches(url: str, path: Path) -> None:
    """Remove the batches the benchmark imported from `path` and every row that refers to
    them (their series and figures, and whatever else the schema links to a batch), and the
    partitions their figures were written into."""
    with psycopg.connect(url) as connection:
        batch_ids = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM flows_importbatch WHERE format_code = %s AND file_name = %s",
                (FORMAT, path.name),
            )
        ]
        if not batch_ids:
            return
        # A large import's figures are a partition of their own (flows.storage): dropped whole.
        for (partition,) in connection.execute(
            """
            SELECT DISTINCT tableoid::regclass::text FROM flows_seriesvalue
            WHERE series_id IN (SELECT id FROM flows_series WHERE batch_id = ANY(%s))
            """,
            (batch_ids,),
        ).fetchall():
            if partition != "flows_seriesvalue_shared":
                connection.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(partition)))
        connection.execute(
            "DELETE FROM flows_seriesvalue WHERE series_id IN "
            "(SELECT id FROM flows_series WHERE batch_id = ANY(%s))",
            (batch_ids,),
        )
        references = connection.execute(
            """
            SELECT source.relname, attribute.attname
            FROM pg_constraint constraint_
            JOIN pg_class source ON source.oid = constraint_.conrelid
            JOIN pg_attribute attribute
              ON attribute.attrelid = constraint_.conrelid
             AND attribute.attnum = ANY (constraint_.conkey)
            WHERE constraint_.contype = 'f'
              AND constraint_.confrelid = 'flows_importbatch'::regclass
            """
        ).fetchall()
        for table, column in references:
            connection.execute(
                sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
                    sql.Identifier(table), sql.Identifier(column)
                ),
                (batch_ids,),
            )
        connection.execute("DELETE FROM flows_importbatch WHERE id = ANY(%s)", (batch_ids,))
        connection.commit()


# --- The run -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows of the large file")
    parser.add_argument(
        "--small-rows",
        type=int,
        default=1_000_000,
        help="rows of the file whose peak memory is compared (0: skip)",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    arguments = parser.parse_args()

    url = arguments.database_url
    sample = read_sample()
    names = citizenship_names()
    created = ensure_database(url)
    try:
        with tempfile.TemporaryDirectory(prefix="mirador-bench-") as directory:
            work = Path(directory)
            environment = mirador_environment(url, work)
            migrate(environment)
            figures = measure(arguments, url, environment, work, sample, names)
    finally:
        if created:
            drop_database(url)
    print(
        f"COPY of the CSV rows into a bare table: {figures['copy_rows_per_s']:,.0f} rows/s; "
        f"mirador import: {figures['import_rows_per_s']:,.0f} rows/s; "
        f"ratio {figures['ratio']:.3f} (goal >= 0.5)."
    )
    print(
        "The database's side alone, the stored rows COPYed back: into a bare table of the "
        f"same columns {figures['copy_mapped_bare_rows_per_s']:,.0f} rows/s; into a copy of "
        "flows_seriesvalue (its primary key and checks) "
        f"{figures['copy_mapped_real_table_rows_per_s']:,.0f} rows/s."
    )
    small = (
        f", {figures['peak_rss_mib_1m']:.0f} MiB at {figures['rows_small']:,} rows"
        if figures["rows_small"]
        else ""
    )
    print(
        f"Peak memory of mirador import: {figures['peak_rss_mib']:.0f} MiB at "
        f"{figures['rows']:,} rows{small} (goal < 300 MiB)."
    )
    print(json.dumps(figures))
    return 0


def measure(
    arguments: argparse.Namespace,
    url: str,
    environment: dict[str, str],
    work: Path,
    sample: Sample,
    names: list[str],
) -> dict[str, Any]:
    rows = arguments.rows
    large = work / f"cbp-encounters-{rows}.csv"
    started = time.perf_counter()
    years = write_file(large, rows, sample, names)
    print(
        f"Wrote {rows:,} rows ({large.stat().st_size / 2**20:,.0f} MiB, {years} fiscal years, "
        f"{len(names)} citizenships, {len(sample.combinations)} combinations) in "
        f"{time.perf_counter() - started:.1f} s.",
        flush=True,
    )
    copy_seconds = copy_baseline(url, large)
    print(f"COPY baseline: {copy_seconds:.1f} s.", flush=True)
    large_run = run_import(large, environment)
    mapped_bare_seconds, mapped_real_seconds = copy_mapped_rows(url, large, work)
    remove_batches(url, large)
    print(
        f"mirador import: {large_run.seconds:.1f} s ({large_run.cpu_seconds:.1f} s of CPU); "
        f"{large_run.output}",
        flush=True,
    )
    large.unlink()

    figures: dict[str, Any] = {
        "rows": rows,
        "baseline": "COPY of the CSV rows as they are into a bare table (no index)",
        "copy_seconds": round(copy_seconds, 2),
        "import_seconds": round(large_run.seconds, 2),
        "import_cpu_seconds": round(large_run.cpu_seconds, 2),
        # The database's side alone: the stored rows COPYed into a bare table of the same
        # columns, and into a copy of the real table (indexes, constraints, foreign keys).
        "copy_mapped_bare_rows_per_s": round(rows / mapped_bare_seconds),
        "copy_mapped_real_table_rows_per_s": round(rows / mapped_real_seconds),
        "copy_rows_per_s": round(rows / copy_seconds),
        "import_rows_per_s": round(rows / large_run.seconds),
        "ratio": round(copy_seconds / large_run.seconds, 4),
        "peak_rss_mib": round(large_run.peak_rss_mib, 1),
        "rows_small": 0,
        "peak_rss_mib_1m": None,
        "goal_ratio": 0.5,
        "goal_peak_rss_mib": 300,
    }
    small_rows = min(arguments.small_rows, rows)
    if small_rows:
        small = work / f"cbp-encounters-{small_rows}.csv"
        write_file(small, small_rows, sample, names)
        small_run = run_import(small, environment)
        remove_batches(url, small)
        print(
            f"mirador import: {small_run.seconds:.1f} s ({small_run.cpu_seconds:.1f} s of CPU); "
            f"{small_run.output}",
            flush=True,
        )
        figures["rows_small"] = small_rows
        figures["peak_rss_mib_1m"] = round(small_run.peak_rss_mib, 1)
        figures["import_rows_per_s_1m"] = round(small_rows / small_run.seconds)
    return figures


if __name__ == "__main__":
    sys.exit(main())
