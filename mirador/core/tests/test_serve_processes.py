"""`mirador serve --processes N` (MIRADOR_WEB_PROCESSES): several web processes on one port,
all stopped by the SIGTERM a service manager sends; wrong values refused in one sentence."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
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
