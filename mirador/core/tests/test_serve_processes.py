"""`mirador serve --processes N` (MIRADOR_WEB_PROCESSES): several web processes on one port,
all stopped by the SIGTERM a service manager sends; wrong values refused in one sentence."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def _environment(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("MIRADOR_") and name != "DJANGO_SETTINGS_MODULE"
    }
    return environment | {
        "MIRADOR_DATA_DIR": str(data_dir),
        "MIRADOR_PORT": str(port),
        "MIRADOR_LANGUAGE": "en",
        **extra,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _healthz(port: int, *, within: float) -> int:
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:  # noqa: S310 (our own loopback URL)
                return int(answer.status)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_several_processes_serve_one_port_and_stop_together(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 (our own command, fixed arguments)
        [sys.executable, "-m", "mirador.cli", "serve", "--threads", "2"],
        env=_environment(tmp_path, port, MIRADOR_WEB_PROCESSES="2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert _healthz(port, within=90) == 200
        # The first worker may answer before the master has forked the second (gunicorn
        # waits a random tenth of a second between forks).
        deadline = time.monotonic() + 30
        workers = _children(server.pid)
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _children(server.pid)
        assert len(workers) == 2
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert not any(_running(worker) for worker in workers)


@pytest.mark.parametrize(
    ("arguments", "variables", "message"),
    [
        (["--processes", "0"], {}, "--processes must be 1 or more."),
        (["--processes", "2", "--task-worker"], {}, "run `mirador worker`"),
        ([], {"MIRADOR_WEB_PROCESSES": "many"}, "MIRADOR_WEB_PROCESSES"),
    ],
)
def test_a_wrong_number_of_processes_is_refused_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch, arguments: list[str], variables: dict[str, str], message: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CommandError) as refused:
        call_command("serve", *arguments)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def _served_by(port: int, seconds: float) -> tuple[http.client.HTTPConnection, float]:
    """A keep-alive connection whose request (`seconds` long) has been sent, not read."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", f"/?sleep={seconds}")
    return connection, time.monotonic()


@contextlib.contextmanager
def _slow_site(tmp_path: Path) -> Iterator[int]:
    """Two web processes of one thread each serving slow_wsgi; yields the port."""
    port = _free_port()
    environment = _environment(tmp_path, port) | {"DJANGO_SETTINGS_MODULE": "mirador.settings"}
    server = subprocess.Popen(  # noqa: S603 (our own code, fixed arguments)
        [
            sys.executable,
            "-c",
            "import sys, django; django.setup(); "
            "from mirador.core.management.commands.serve import run_processes; "
            f"run_processes(application='mirador.core.tests.slow_wsgi:application', "
            f"host='127.0.0.1', port={port}, threads=1, processes=2, stdout=sys.stdout)",
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_children(server.pid)) < 2 or not _answers(port):
            assert time.monotonic() < deadline, "the two web processes did not start"
            time.sleep(0.2)
        time.sleep(1)  # the second process forked may still be starting
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def test_a_new_connection_goes_to_a_process_with_a_free_thread(tmp_path: Path) -> None:
    # One thread per process: while one process is busy with a slow request, a new client
    # must be served at once by the other, not queued behind the slow one. gunicorn's own
    # threaded worker takes the connection in half the cases.
    with _slow_site(tmp_path) as port:
        for _attempt in range(4):
            slow, _sent = _served_by(port, 2.0)
            time.sleep(0.3)  # the slow request is in a thread now
            quick, sent = _served_by(port, 0)
            quick_pid = quick.getresponse().read()
            waited = time.monotonic() - sent
            slow_pid = slow.getresponse().read()
            slow.close()
            quick.close()
            assert quick_pid != slow_pid
            assert waited < 1.0


def test_a_new_connection_is_served_while_every_process_is_busy(tmp_path: Path) -> None:
    # Four clients keep both processes' threads busy with short requests on their open
    # connections; a new client is taken in turn, not left waiting for an idle moment.
    with _slow_site(tmp_path) as port:
        stop = threading.Event()

        def keep_busy() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while not stop.is_set():
                connection.request("GET", "/?sleep=0.05")
                connection.getresponse().read()
            connection.close()

        clients = [threading.Thread(target=keep_busy) for _ in range(4)]
        for client in clients:
            client.start()
        try:
            time.sleep(1)
            for _attempt in range(5):
                fresh, sent = _served_by(port, 0)
                fresh.getresponse().read()
                fresh.close()
                # Behind at most a few short requests of the others.
                assert time.monotonic() - sent < 1.0
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=30)


def _answers(port: int) -> bool:
    try:
        connection, _sent = _served_by(port, 0)
        connection.getresponse().read()
        connection.close()
    except OSError:
        return False
    return True
