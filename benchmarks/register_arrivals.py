"""Benchmark: registering arrivals through the API, against a bare Django endpoint.

Run it from the checkout, with PostgreSQL running:

    .venv/bin/python benchmarks/register_arrivals.py                  # 32 clients, 30 s each
    .venv/bin/python benchmarks/register_arrivals.py --duration 10    # a quick run
    .venv/bin/python benchmarks/register_arrivals.py --database-url postgresql://USER@HOST:PORT/NAME

Goals (the project's issue 5): registration through the API, with validation, the
repeat-return candidate search and audit logging on, sustains at least half the throughput of
a bare Django endpoint that inserts one row, measured in the same run with 32 concurrent
clients on loopback, and at least 200 registrations per second with a 99th percentile under
150 ms.

What it does:
1. Creates its own PostgreSQL databases (mirador_bench, and mirador_bench_bare for the bare
   site's one table), migrates Mirador (which loads the reference data), and, through the
   real services, creates 32 reception officers of Honduras's migration authority and
   registers `--earlier` earlier returns at a Honduran airport centre (adults of the demo
   generator, `people.demo`, with consent to tracing, so that their blocking keys are
   stored and the candidate search finds them).
   The tables are then analysed, as docs/operations.md asks after a large load (this
   machine's PostgreSQL runs without autovacuum).
2. Serves Mirador with `mirador serve` as docs/operations.md tells production to: one web
   process per core (`--processes`, default this machine's cores; gunicorn's master with
   threaded workers of `--threads` threads, default 8, the same as `mirador serve`; with
   one process, waitress), in production settings (MIRADOR_MODE=production, DEBUG off, a
   secret key, allowed hosts, PostgreSQL with connections kept 60 s); two-factor
   authentication is off, as in the demo, so that the officers get their API tokens
   (POST /api/v1/auth/token) with a password.
3. Serves the bare site (benchmarks/bare_site: no middleware, one view that inserts the
   request's JSON into a one-table database) the same way, through the same function of
   `mirador serve`: the same server, processes and threads, the same PostgreSQL server,
   connections kept 60 s.
4. Load: 32 client threads in this process (a separate process from either server), each
   with one keep-alive HTTP/1.1 connection on loopback. A registration is what the desk
   (the registration page) does for a walk-in who consents to tracing and matching: POST
   /api/v1/returns/arrivals with the identity given, their documents and telephone, which
   searches the earlier returns that may be them; a new person with none is registered by
   that request. Otherwise it answers 409 with the candidates and the reasons each matched,
   and a second POST confirms the candidate when the returnee came back before (about a
   quarter of them: one of the earlier returns, found by the search) or rejects them all.
   Walk-ins are the demo generator's returnees to Honduras travelling
   alone (adults, and children alone, whose arrival raises a protection alert). The bare
   site gets one POST per registration, the registration's JSON, inserted as one row.
   Each side: `--warmup` seconds, then `--duration` seconds measured; only the operations
   that finish inside the measured window count. Errors (any status other than 200/201 and
   the 409 with candidates to decide on, or a failed connection) are counted; there must be
   none.
5. For information: a client that searches first (POST /api/v1/returns/candidates/search,
   then the registration naming the candidates it confirms or rejects, which the
   registration searches again), the same way; and, in this process through Django's test
   client, the SQL queries of one search and of one registration of a new person and of a
   returnee.
6. Removes what it added: the databases it created are dropped (the audit log is
   append-only, so a database that existed keeps the benchmark's rows; give a fresh one).

Prints the rates, latencies and ratios, each goal met or not with the measured number, and
as its last line one JSON object of the figures. A benchmark, never a timed test.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import http.client
import itertools
import json
import math
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))

MIRADOR = CHECKOUT / ".venv" / "bin" / "mirador"
PYTHON = CHECKOUT / ".venv" / "bin" / "python"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/mirador_bench"
BARE_SUFFIX = "_bare"
OFFICER_PASSWORD = "bench-" + secrets.token_urlsafe(16)
CENTRE_COUNTRY = "HN"
ORGANISATION = "Instituto Nacional de Migración"
REPEAT_SHARE = 0.25
GOAL_RATIO = 0.5
GOAL_RATE = 200.0
GOAL_P99_MS = 150.0


# --- Databases and servers -------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def ensure_database(url: str) -> bool:
    """Create the database if it is missing; True if it was created here."""
    name = _database_name(url)
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def drop_database(url: str) -> None:
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(_database_name(url))
            )
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mirador_environment(url: str, data_dir: Path, port: int) -> dict[str, str]:
    """Production settings, as docs/operations.md gives them, on loopback."""
    environment = dict(os.environ)
    environment.update(
        {
            "MIRADOR_MODE": "production",
            "MIRADOR_SECRET_KEY": secrets.token_urlsafe(64),
            "MIRADOR_DATABASE_URL": url,
            # testserver: this process's own Django test client, for the query counts.
            "MIRADOR_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "MIRADOR_DATA_DIR": str(data_dir),
            "MIRADOR_HOST": "127.0.0.1",
            "MIRADOR_PORT": str(port),
            "MIRADOR_REQUIRE_TWO_FACTOR": "false",
            "MIRADOR_DEBUG": "false",
            "MIRADOR_LOG_LEVEL": "WARNING",
            "MIRADOR_LANGUAGE": "en",
        }
    )
    return environment


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"The server on port {port} exited ({process.returncode}):\n{output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"The server on port {port} did not start within {timeout:.0f} s.")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- The data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Walkin:
    identity: dict[str, Any]
    contacts: list[dict[str, Any]]
    returned_from: str
    home_subdivision: str | None
    time_abroad: str
    reasons: list[str]
    earlier_person_id: str | None = None  # set for a returnee who came back before


def _identity(person: Any) -> dict[str, Any]:
    documents = [
        {"kind": kind, "number": number, "issuing_country": person.nationality}
        for kind, number in (("national-id", person.national_id), ("passport", person.passport))
        if number
    ]
    return {
        "given_names": person.given_names,
        "first_surname": person.first_surname,
        "second_surname": person.second_surname,
        "birth_year": person.birth_year,
        "birth_month": person.birth_month,
        "birth_day": person.birth_day,
        "sex": person.sex,
        "nationality": person.nationality,
        "is_child": person.is_child,
        "documents": documents,
    }


def walkins(count: int, *, seed: int, subdivisions: set[str]) -> Iterator[Walkin]:
    """Returnees to Honduras travelling alone, from the demo generator, first return only."""
    from mirador.people.demo import generate_returnees
    from mirador.returns.models import MigrationReason, TimeAbroad

    rng = random.Random(seed)
    abroad = [value for value in TimeAbroad.values if value != TimeAbroad.UNKNOWN]
    produced = 0
    # The generator draws document numbers at random, so two of its persons now and then
    # share one (passports: 7 digits), which Mirador rightly refuses for two new persons;
    # such a walk-in is left out.
    documents_seen: set[str] = set()
    for returnee in generate_returnees(count * 4, seed=seed):
        if produced == count:
            return
        person = returnee.person
        documents = {number for number in (person.national_id, person.passport) if number}
        if (
            returnee.event.receiving_country != CENTRE_COUNTRY
            or returnee.family_group is not None
            or returnee.is_repeat
            or person.nationality != CENTRE_COUNTRY
            or documents & documents_seen
        ):
            continue
        documents_seen |= documents
        produced += 1
        yield Walkin(
            identity=_identity(person),
            contacts=[{"kind": "phone", "value": person.phone}] if person.phone else [],
            returned_from=returnee.event.sending_country,
            home_subdivision=person.subdivision if person.subdivision in subdivisions else None,
            time_abroad=rng.choice(abroad),
            reasons=sorted(set(rng.sample(MigrationReason.values, k=rng.randint(1, 2)))),
        )


@dataclass
class Setup:
    centre_id: str
    usernames: list[str]
    earlier: list[Walkin]
    fresh: list[Walkin]


def set_up(*, earlier: int, fresh: int, clients: int) -> Setup:
    """Officers and earlier returns, through the real services (Django set up in this
    process on the benchmark's database)."""
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "mirador.settings"
    django.setup()
    from django.db import connections

    from mirador.accounts.models import Role, User
    from mirador.core.audit import request_context
    from mirador.core.models import Country, Organisation, ReceptionCentre, Subdivision
    from mirador.people.services import ContactData, DocumentData
    from mirador.returns.services import (
        CandidatesToDecideError,
        IdentityData,
        arrival_register,
    )

    centre = (
        ReceptionCentre.objects.filter(country_id=CENTRE_COUNTRY, kind="airport", is_active=True)
        .order_by("name")
        .first()
    )
    organisation = (
        Organisation.objects.filter(country_id=CENTRE_COUNTRY, name=ORGANISATION)
        .order_by("pk")
        .first()
    )
    if centre is None or organisation is None:
        raise SystemExit("The reference data has no Honduran airport centre or INM.")
    usernames = [f"bench.officer.{index:02d}" for index in range(clients)]
    officers = [
        User.objects.create_user(
            username=username,
            password=OFFICER_PASSWORD,
            role=Role.RECEPTION_OFFICER,
            country_id=CENTRE_COUNTRY,
            organisation=organisation,
            preferred_language="en",
        )
        for username in usernames
    ]
    subdivisions = set(
        Subdivision.objects.filter(country_id=CENTRE_COUNTRY).values_list("code", flat=True)
    )
    countries = {country.pk: country for country in Country.objects.all()}
    pool = list(walkins(earlier * 2 + fresh, seed=2026, subdivisions=subdivisions))
    adults = [walkin for walkin in pool if not walkin.identity["is_child"]][:earlier]
    taken = {id(walkin) for walkin in adults}
    rest = [walkin for walkin in pool if id(walkin) not in taken][:fresh]
    registered: list[Walkin] = []
    started = time.perf_counter()
    now = datetime.datetime.now(tz=datetime.UTC)
    with request_context(ip_address=None, channel="cli"):
        for index, walkin in enumerate(adults):
            data = walkin.identity
            register = functools.partial(
                arrival_register,
                actor=officers[index % len(officers)],
                centre=centre,
                idempotency_key=f"bench-earlier-{index:06d}",
                arrived_at=now - datetime.timedelta(days=30 + index % 300, hours=index % 9),
                identity=IdentityData(
                    given_names=data["given_names"],
                    first_surname=data["first_surname"],
                    second_surname=data["second_surname"],
                    birth_year=data["birth_year"],
                    birth_month=data["birth_month"],
                    birth_day=data["birth_day"],
                    sex=data["sex"],
                    nationality=data["nationality"],
                    documents=[DocumentData(**document) for document in data["documents"]],
                ),
                returned_from=countries[walkin.returned_from],
                time_abroad=walkin.time_abroad,
                migration_reasons=walkin.reasons,
                consent_follow_up=True,
                consent_tracing=True,
                contacts=[ContactData(**contact) for contact in walkin.contacts],
            )
            try:
                arrival = register()
            except CandidatesToDecideError as error:
                # A namesake drawn earlier: a different person, as the officer would say.
                arrival = register(rejected_candidates=[c.person for c in error.candidates])
            registered.append(
                Walkin(
                    identity=walkin.identity,
                    contacts=[],
                    returned_from=walkin.returned_from,
                    home_subdivision=walkin.home_subdivision,
                    time_abroad=walkin.time_abroad,
                    reasons=walkin.reasons,
                    earlier_person_id=str(arrival.person_id),
                )
            )
    print(
        f"Set up: {len(officers)} officers, {len(registered)} earlier returns registered in "
        f"{time.perf_counter() - started:.1f} s; {len(rest)} walk-ins drawn.",
        flush=True,
    )
    connections.close_all()
    analyse(os.environ["MIRADOR_DATABASE_URL"])
    return Setup(centre_id=str(centre.pk), usernames=usernames, earlier=registered, fresh=rest)


def analyse(url: str) -> None:
    """ANALYZE the database, as docs/operations.md asks after a large load."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE")


# --- Load ------------------------------------------------------------------------------------


class Workload:
    """The next walk-in for any client: a returnee who came back before (REPEAT_SHARE of
    them) or a new one, drawn without repeats of new persons."""

    def __init__(self, setup: Setup, *, seed: int) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._fresh = itertools.cycle(setup.fresh)
        self._earlier = setup.earlier
        self._cycles = 0
        self._used = 0
        self._fresh_count = len(setup.fresh)

    def next(self) -> Walkin:
        with self._lock:
            if self._earlier and self._rng.random() < REPEAT_SHARE:
                return self._rng.choice(self._earlier)
            self._used += 1
            return next(self._fresh)

    @property
    def fresh_reused(self) -> bool:
        return self._used > self._fresh_count


@dataclass
class Client:
    port: int
    token: str = ""
    connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
                continue
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
                self.connection = None
            return response.status, json.loads(data) if data else None
        raise AssertionError("unreachable")


@dataclass
class Sample:
    finished: float
    seconds: float
    parts: tuple[float, ...]
    ok: bool
    error: str = ""


@dataclass
class Result:
    name: str
    operations: int
    seconds: float
    errors: int
    latencies_ms: list[float]
    part_latencies_ms: list[list[float]] = field(default_factory=list)
    error_examples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.operations / self.seconds if self.seconds else math.nan

    def percentile(self, share: float, values: list[float] | None = None) -> float:
        ordered = sorted(self.latencies_ms if values is None else values)
        if not ordered:
            return math.nan
        return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]

    def summary(self) -> dict[str, float | int]:
        return {
            "per_s": round(self.rate, 1),
            "p50_ms": round(self.percentile(0.50), 1),
            "p95_ms": round(self.percentile(0.95), 1),
            "p99_ms": round(self.percentile(0.99), 1),
            "max_ms": round(max(self.latencies_ms, default=math.nan), 1),
            "operations": self.operations,
            "errors": self.errors,
        }


Operation = Callable[[Client], tuple[bool, tuple[float, ...], str]]


def run_load(
    name: str,
    *,
    clients: list[Client],
    operation: Operation,
    warmup: float,
    duration: float,
) -> Result:
    """Every client runs `operation` back to back; what finishes in the measured window
    counts."""
    start = time.perf_counter() + 0.5
    measure_from = start + warmup
    measure_to = measure_from + duration
    samples: list[list[Sample]] = [[] for _ in clients]
    barrier = threading.Barrier(len(clients))

    def worker(index: int) -> None:
        client = clients[index]
        barrier.wait()
        while (now := time.perf_counter()) < measure_to:
            try:
                ok, parts, error = operation(client)
            except Exception as exception:  # noqa: BLE001 (a failed request is counted)
                ok, parts, error = False, (), repr(exception)
            finished = time.perf_counter()
            samples[index].append(Sample(finished, finished - now, parts, ok, error))

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    measured = [
        sample
        for per_client in samples
        for sample in per_client
        if measure_from <= sample.finished <= measure_to
    ]
    errors = [sample for sample in measured if not sample.ok]
    parts = max((len(sample.parts) for sample in measured), default=0)
    return Result(
        name=name,
        operations=len(measured) - len(errors),
        seconds=duration,
        errors=len(errors),
        latencies_ms=[sample.seconds * 1000 for sample in measured if sample.ok],
        part_latencies_ms=[
            [sample.parts[i] * 1000 for sample in measured if sample.ok and len(sample.parts) > i]
            for i in range(parts)
        ],
        error_examples=[sample.error for sample in errors[:5]],
    )


def _timed(client: Client, method: str, path: str, body: Any) -> tuple[int, Any, float]:
    started = time.perf_counter()
    status, data = client.request(method, path, body)
    return status, data, time.perf_counter() - started


def registration_payload(centre_id: str, walkin: Walkin, candidates: list[Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "centre_id": centre_id,
        "idempotency_key": str(uuid.uuid4()),
        "returned_from": walkin.returned_from,
        "means": "air",
        "home_subdivision": walkin.home_subdivision,
        "time_abroad": walkin.time_abroad,
        "migration_reasons": walkin.reasons,
        "consent_follow_up": True,
        "consent_tracing": True,
    }
    confirmed = next((c for c in candidates if c["person"]["id"] == walkin.earlier_person_id), None)
    if confirmed is not None:
        payload["confirmed_person_id"] = confirmed["person"]["id"]
        payload["candidate_reasons"] = [reason["code"] for reason in confirmed["reasons"]]
        payload["rejected_candidate_ids"] = [
            c["person"]["id"] for c in candidates if c is not confirmed
        ]
    else:
        payload["identity"] = walkin.identity
        payload["contacts"] = walkin.contacts
        payload["rejected_candidate_ids"] = [c["person"]["id"] for c in candidates]
    return payload


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    repeats_sent: int = 0
    repeats_found: int = 0
    decided: int = 0  # registrations that were shown candidates to decide on

    def add(self, *, repeat: bool, found: bool, decided: bool = True) -> None:
        with self.lock:
            self.repeats_sent += repeat
            self.repeats_found += found
            self.decided += decided


def desk_operation(centre_id: str, workload: Workload, tally: Tally) -> Operation:
    def operation(client: Client) -> tuple[bool, tuple[float, ...], str]:
        walkin = workload.next()
        payload = registration_payload(centre_id, walkin, [])
        status, body, first = _timed(client, "POST", "/api/v1/returns/arrivals", payload)
        if status == 201:
            tally.add(repeat=walkin.earlier_person_id is not None, found=False, decided=False)
            return True, (first,), ""
        if status != 409:
            return False, (first,), f"register {status}: {str(body)[:300]}"
        candidates = body["error"]["details"]["candidates"]
        payload = registration_payload(centre_id, walkin, candidates)
        tally.add(
            repeat=walkin.earlier_person_id is not None,
            found="confirmed_person_id" in payload,
        )
        status, body, second = _timed(client, "POST", "/api/v1/returns/arrivals", payload)
        if status != 201:
            return False, (first, second), f"decided {status}: {str(body)[:300]}"
        return True, (first, second), ""

    return operation


def search_first_operation(centre_id: str, workload: Workload) -> Operation:
    def operation(client: Client) -> tuple[bool, tuple[float, ...], str]:
        walkin = workload.next()
        status, found, searched = _timed(
            client,
            "POST",
            "/api/v1/returns/candidates/search",
            {"identity": walkin.identity, "consent_tracing": True},
        )
        if status != 200:
            return False, (searched,), f"search {status}: {str(found)[:300]}"
        payload = registration_payload(centre_id, walkin, found["candidates"])
        status, body, registered = _timed(client, "POST", "/api/v1/returns/arrivals", payload)
        if status != 201:
            return False, (searched, registered), f"register {status}: {str(body)[:300]}"
        return True, (searched, registered), ""

    return operation


def bare_operation(centre_id: str, workload: Workload) -> Operation:
    def operation(client: Client) -> tuple[bool, tuple[float, ...], str]:
        payload = registration_payload(centre_id, workload.next(), [])
        status, body, seconds = _timed(client, "POST", "/rows", payload)
        if status != 201:
            return False, (seconds,), f"bare {status}: {str(body)[:300]}"
        return True, (seconds,), ""

    return operation


def api_tokens(port: int, usernames: list[str]) -> list[str]:
    tokens = []
    for username in usernames:
        status, body = Client(port).request(
            "POST", "/api/v1/auth/token", {"username": username, "password": OFFICER_PASSWORD}
        )
        if status != 201:
            raise SystemExit(f"No API token for {username}: {status} {body}")
        tokens.append(body["token"])
    return tokens


# --- Query counts ----------------------------------------------------------------------------


def query_counts(centre_id: str, token: str, setup: Setup) -> dict[str, int]:
    """SQL queries of one search, one registration of a new person and one of a returnee,
    through Django's test client in this process (the same settings as the server)."""
    from django.db import connection, connections
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    counts: dict[str, int] = {}

    def post(name: str, path: str, body: dict[str, Any], expected: int) -> Any:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, data=body, content_type="application/json")
        if response.status_code != expected:
            raise SystemExit(f"{name}: {response.status_code} {response.content[:300]!r}")
        counts[name] = len(queries)
        return response.json()

    fresh = setup.fresh[-1]
    found = post(
        "queries_per_search",
        "/api/v1/returns/candidates/search",
        {"identity": fresh.identity, "consent_tracing": True},
        200,
    )
    post(
        "queries_per_new_registration",
        "/api/v1/returns/arrivals",
        registration_payload(centre_id, fresh, found["candidates"]),
        201,
    )
    earlier = setup.earlier[-1]
    found = post(
        "queries_per_repeat_search",
        "/api/v1/returns/candidates/search",
        {"identity": earlier.identity, "consent_tracing": True},
        200,
    )
    post(
        "queries_per_repeat_registration",
        "/api/v1/returns/arrivals",
        registration_payload(centre_id, earlier, found["candidates"]),
        201,
    )
    connections.close_all()
    return counts


# --- The run ---------------------------------------------------------------------------------


def _line(result: Result, parts: tuple[str, ...] = ()) -> str:
    summary = result.summary()
    text = (
        f"{result.name}: {summary['per_s']:.1f}/s, p50 {summary['p50_ms']:.1f} ms, "
        f"p95 {summary['p95_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms, "
        f"max {summary['max_ms']:.1f} ms, {summary['operations']} done, "
        f"{summary['errors']} errors"
    )
    for name, values in zip(parts, result.part_latencies_ms, strict=False):
        text += (
            f"\n    {name}: p50 {result.percentile(0.5, values):.1f} ms, "
            f"p99 {result.percentile(0.99, values):.1f} ms"
        )
    for example in result.error_examples:
        text += f"\n    error: {example}"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--threads", type=int, default=8, help="threads per server process (mirador serve's)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="server processes, one per core as docs/operations.md says (default: the cores)",
    )
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--earlier", type=int, default=1000, help="earlier returns registered")
    parser.add_argument("--walkins", type=int, default=12000, help="new walk-ins drawn")
    parser.add_argument(
        "--skip-search-first",
        action="store_true",
        help="skip the informative run of a client that searches first",
    )
    arguments = parser.parse_args()

    url = arguments.database_url
    bare_url = _with_database(url, _database_name(url) + BARE_SUFFIX)
    created = [database for database in (url, bare_url) if ensure_database(database)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="mirador-bench-") as work:
            port, bare_port = free_port(), free_port()
            environment = mirador_environment(url, Path(work), port)
            # The API serves no static files; production would have collected them here.
            (Path(work) / "static").mkdir()
            subprocess.run(  # noqa: S603 (our own command)
                [str(MIRADOR), "migrate", "--verbosity", "0"], env=environment, check=True
            )
            os.environ.update(environment)
            setup = set_up(
                earlier=arguments.earlier, fresh=arguments.walkins, clients=arguments.clients
            )

            bare_environment = dict(os.environ)
            bare_environment["BARE_DATABASE_URL"] = bare_url
            bare_environment["PYTHONPATH"] = str(CHECKOUT / "benchmarks")
            bare_environment.pop("DJANGO_SETTINGS_MODULE", None)
            subprocess.run(  # noqa: S603 (our own command)
                [str(PYTHON), "-m", "bare_site", "create-table"], env=bare_environment, check=True
            )
            logs = Path(work)
            bare = subprocess.Popen(  # noqa: S603 (our own command)
                [
                    str(PYTHON),
                    "-m",
                    "bare_site",
                    "serve",
                    str(bare_port),
                    str(arguments.threads),
                    str(arguments.processes),
                ],
                env=bare_environment,
                stdout=(logs / "bare.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            processes.append(bare)
            mirador = subprocess.Popen(  # noqa: S603 (our own command)
                [
                    str(MIRADOR),
                    "serve",
                    "--threads",
                    str(arguments.threads),
                    "--processes",
                    str(arguments.processes),
                ],
                env=environment,
                stdout=(logs / "mirador.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            processes.append(mirador)
            wait_for_port(bare_port, bare, logs / "bare.log")
            wait_for_port(port, mirador, logs / "mirador.log")
            tokens = api_tokens(port, setup.usernames)
            workload = Workload(setup, seed=7)
            load = {"warmup": arguments.warmup, "duration": arguments.duration}
            print(
                f"{arguments.clients} clients, {arguments.processes} server processes of "
                f"{arguments.threads} threads each (both sites), "
                f"{arguments.warmup:.0f} s warm-up, {arguments.duration:.0f} s measured each.",
                flush=True,
            )

            bare_result = run_load(
                "Bare Django insert",
                clients=[Client(bare_port) for _ in range(arguments.clients)],
                # Its own draw of walk-ins, so that Mirador's are not used up.
                operation=bare_operation(setup.centre_id, Workload(setup, seed=8)),
                **load,
            )
            print(_line(bare_result), flush=True)
            stop(bare)

            tally = Tally()
            desk = run_load(
                "Mirador registration (register; decide on candidates if shown)",
                clients=[Client(port, token) for token in tokens],
                operation=desk_operation(setup.centre_id, workload, tally),
                **load,
            )
            print(_line(desk, ("first request", "decision request")), flush=True)
            print(
                f"    returnees who came back before: {tally.repeats_sent} sent, "
                f"{tally.repeats_found} found by the search and confirmed; "
                f"{tally.decided} registrations shown candidates to decide on",
                flush=True,
            )
            search_first = None
            if not arguments.skip_search_first:
                search_first = run_load(
                    "Mirador registration, searched first (informative)",
                    clients=[Client(port, token) for token in tokens],
                    operation=search_first_operation(setup.centre_id, workload),
                    **load,
                )
                print(_line(search_first, ("search", "register")), flush=True)
            stop(mirador)
            counts = query_counts(setup.centre_id, tokens[0], setup)
            shown = (f"{name.removeprefix('queries_per_')} {n}" for name, n in counts.items())
            print("SQL queries: " + ", ".join(shown), flush=True)
            if workload.fresh_reused:
                print("Note: the new walk-ins were used up and drawn again (raise --walkins).")
    finally:
        for process in processes:
            stop(process)
        for database in created:
            drop_database(database)

    ratio = desk.rate / bare_result.rate if bare_result.rate else math.nan
    p99 = desk.percentile(0.99)
    goals = {
        "ratio_at_least_half": ratio >= GOAL_RATIO,
        "rate_at_least_200": desk.rate >= GOAL_RATE,
        "p99_under_150_ms": p99 < GOAL_P99_MS,
        "no_errors": desk.errors == 0 and bare_result.errors == 0,
    }
    print(
        f"Ratio Mirador / bare: {ratio:.2f} (goal {GOAL_RATIO}: "
        f"{'met' if goals['ratio_at_least_half'] else 'NOT met'})"
    )
    print(
        f"Mirador registrations: {desk.rate:.1f}/s (goal {GOAL_RATE:.0f}: "
        f"{'met' if goals['rate_at_least_200'] else 'NOT met'}), p99 {p99:.1f} ms (goal "
        f"under {GOAL_P99_MS:.0f}: {'met' if goals['p99_under_150_ms'] else 'NOT met'})"
    )
    figures: dict[str, Any] = {
        "clients": arguments.clients,
        "server_processes": arguments.processes,
        "server_threads": arguments.threads,
        "cores": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "duration_s": arguments.duration,
        "bare": bare_result.summary(),
        "mirador": desk.summary(),
        "mirador_first_request_p99_ms": round(desk.percentile(0.99, desk.part_latencies_ms[0]), 1)
        if desk.part_latencies_ms
        else None,
        "mirador_decision_request_p99_ms": round(
            desk.percentile(0.99, desk.part_latencies_ms[1]), 1
        )
        if len(desk.part_latencies_ms) > 1
        else None,
        "ratio": round(ratio, 3),
        "searched_first": search_first.summary() if search_first else None,
        "searched_first_ratio": round(search_first.rate / bare_result.rate, 3)
        if search_first and bare_result.rate
        else None,
        "repeat_returnees_confirmed": tally.repeats_found,
        "registrations_shown_candidates": tally.decided,
        **counts,
        "goals_met": goals,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
