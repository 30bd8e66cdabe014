"""`mirador serve`: serve Mirador with waitress on MIRADOR_HOST:MIRADOR_PORT.

Static files are served by whitenoise inside the application, so this one process is all the
embedded set-up needs; production runs several of them behind a reverse proxy.
"""

from __future__ import annotations

import argparse
import errno
import signal
import socket
import sys
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mirador import config

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_THREADS = 8

PORT_IN_USE = _(
    "Port {port} on {host} is already in use by another program: stop that program, or choose "
    "another port, e.g. MIRADOR_PORT={other} mirador {command}."
)
PORT_NOT_ALLOWED = _(
    "Mirador may not listen on port {port} (ports below 1024 need administrator rights): choose "
    "another port, e.g. MIRADOR_PORT={default} mirador {command}."
)
HOST_UNKNOWN = _(
    "MIRADOR_HOST={host!r} is not an address of this machine: set it to 127.0.0.1 (this machine "
    "only) or 0.0.0.0 (every network interface)."
)
CANNOT_LISTEN = _(
    "Mirador cannot listen on {host}:{port} ({reason}): check MIRADOR_HOST and MIRADOR_PORT."
)


def server_address() -> tuple[str, int]:
    """MIRADOR_HOST and MIRADOR_PORT, checked; a malformed value is a CommandError."""
    try:
        port = config.env_int("MIRADOR_PORT", DEFAULT_PORT, minimum=1, maximum=65535)
    except config.ConfigurationError as error:
        raise CommandError(str(error)) from None
    host = config.env_str("MIRADOR_HOST", DEFAULT_HOST) or DEFAULT_HOST
    return host, port


def _listen_error(host: str, port: int, error: OSError, *, command: str) -> CommandError:
    if error.errno == errno.EADDRINUSE:
        other = port + 1 if port < 65535 else port - 1
        message = str(PORT_IN_USE).format(port=port, host=host, other=other, command=command)
    elif error.errno == errno.EACCES:
        message = str(PORT_NOT_ALLOWED).format(port=port, default=DEFAULT_PORT, command=command)
    elif error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
        message = str(HOST_UNKNOWN).format(host=host)
    else:
        message = str(CANNOT_LISTEN).format(host=host, port=port, reason=error.strerror or error)
    return CommandError(message)


def ensure_port_free(host: str, port: int, *, command: str) -> None:
    """Raise a CommandError saying what to do if Mirador could not listen on host:port.

    Binds and releases a socket the way waitress will (with SO_REUSEADDR, so a port whose
    last connections are closing counts as free)."""
    try:
        family, kind, protocol, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise _listen_error(host, port, error, command=command) from None


def run_server(
    *,
    host: str,
    port: int,
    threads: int,
    command: str,
    stdout: Any,
    task_worker: bool | None = None,
) -> None:
    """Serve until interrupted. With `task_worker` (by default outside production), background
    tasks (imports) run in a thread of this process; production runs `mirador worker`."""
    from waitress.server import create_server  # type: ignore[import-untyped, unused-ignore]

    from mirador.wsgi import application

    try:
        server = create_server(application, host=host, port=port, threads=threads, ident="Mirador")
    except OSError as error:
        raise _listen_error(host, port, error, command=command) from None
    shown_host = f"[{host}]" if ":" in host else host
    stdout.write(
        str(_("Mirador is running at http://{host}:{port}/ (press Ctrl+C to stop).")).format(
            host=shown_host, port=port
        )
    )
    stdout.flush()
    if task_worker if task_worker is not None else not settings.PRODUCTION:
        from mirador.flows.tasks import start_worker_thread

        start_worker_thread()
    if threading.current_thread() is threading.main_thread():
        # A service manager stops Mirador with SIGTERM: close the server as Ctrl+C does.
        signal.signal(signal.SIGTERM, _exit_on_signal)
    server.run()


def _exit_on_signal(signum: int, frame: object) -> None:
    sys.exit(0)


class Command(BaseCommand):
    help = gettext(
        "Serve Mirador on MIRADOR_HOST (default 127.0.0.1) and MIRADOR_PORT (default 8000)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threads",
            type=int,
            default=DEFAULT_THREADS,
            help=gettext("Requests served at once (default %(default)s)."),
        )
        parser.add_argument(
            "--task-worker",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=gettext(
                "Run background tasks (imports) in this process (default: outside production "
                "only; production runs `mirador worker`)."
            ),
        )

    def handle(
        self, *args: Any, threads: int, task_worker: bool | None = None, **options: Any
    ) -> None:
        if threads < 1:
            raise CommandError(_("--threads must be 1 or more."))
        host, port = server_address()
        ensure_port_free(host, port, command="serve")
        run_server(
            host=host,
            port=port,
            threads=threads,
            command="serve",
            stdout=self.stdout,
            task_worker=task_worker,
        )
