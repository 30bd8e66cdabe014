"""`mirador serve`: serve Mirador on MIRADOR_HOST:MIRADOR_PORT.

Static files are served by whitenoise inside the application, so one process is all the
embedded set-up needs: waitress, `--threads` requests at once. Python runs one request at a
time per process, however many threads, so production uses every core with several processes
on the one port (MIRADOR_WEB_PROCESSES, `--processes`): gunicorn's master process forks them
(its threaded workers, `--threads` each, which take a new connection only while a thread is
free: core.web_workers), restarts one that dies and stops them all on SIGTERM.
"""

from __future__ import annotations

import argparse
import errno
import importlib
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
DEFAULT_PROCESSES = 1
# A worker that has not reported for this long is restarted (gunicorn's timeout); a request
# may take that long, e.g. a large page under load.
WORKER_TIMEOUT_SECONDS = 120

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
    processes: int = DEFAULT_PROCESSES,
) -> None:
    """Serve until interrupted. With `task_worker` (by default outside production, with one
    process), background tasks (imports) run in a thread of this process; production, and
    several processes, run `mirador worker`."""
    from waitress.server import create_server  # type: ignore[import-untyped, unused-ignore]

    shown_host = f"[{host}]" if ":" in host else host
    running = str(_("Mirador is running at http://{host}:{port}/ (press Ctrl+C to stop).")).format(
        host=shown_host, port=port
    )
    if processes > 1:
        from django.db import connections

        # The workers are forked from this process: none may inherit its connections.
        connections.close_all()
        run_processes(
            application="mirador.wsgi:application",
            host=host,
            port=port,
            threads=threads,
            processes=processes,
            stdout=stdout,
            announce=running,
        )
        return

    from mirador.wsgi import application

    try:
        server = create_server(application, host=host, port=port, threads=threads, ident="Mirador")
    except OSError as error:
        raise _listen_error(host, port, error, command=command) from None
    stdout.write(running)
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


def run_processes(
    *,
    application: str,
    host: str,
    port: int,
    threads: int,
    processes: int,
    stdout: Any,
    announce: str = "",
) -> None:
    """Serve the WSGI `application` ("module:attribute") from `processes` worker processes
    of `threads` threads each, forked by gunicorn's master process, until SIGTERM or Ctrl+C.
    Each worker imports the application itself (nothing is shared across the fork, database
    connections least of all). No access log: URLs of the API carry filters."""
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self) -> None:
            shown_host = f"[{host}]" if ":" in host else host
            for name, value in {
                "bind": [f"{shown_host}:{port}"],
                "workers": processes,
                "threads": threads,
                "worker_class": "mirador.core.web_workers.BalancedThreadWorker",
                "timeout": WORKER_TIMEOUT_SECONDS,
                "keepalive": 60,
                "proc_name": "mirador",
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "control_socket_disable": True,
            }.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            module, _separator, attribute = application.partition(":")
            return getattr(importlib.import_module(module), attribute)

    if announce:
        stdout.write(announce)
        stdout.flush()
    _Server().run()


class Command(BaseCommand):
    help = gettext(
        "Serve Mirador on MIRADOR_HOST (default 127.0.0.1) and MIRADOR_PORT (default 8000)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threads",
            type=int,
            default=DEFAULT_THREADS,
            help=gettext("Requests served at once by each process (default %(default)s)."),
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help=gettext(
                "Web processes on the port, for a machine with several cores (default: "
                "MIRADOR_WEB_PROCESSES, else 1)."
            ),
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
        self,
        *args: Any,
        threads: int,
        processes: int | None = None,
        task_worker: bool | None = None,
        **options: Any,
    ) -> None:
        if threads < 1:
            raise CommandError(_("--threads must be 1 or more."))
        if processes is None:
            try:
                processes = config.env_int(
                    "MIRADOR_WEB_PROCESSES", DEFAULT_PROCESSES, minimum=1, maximum=64
                )
            except config.ConfigurationError as error:
                raise CommandError(str(error)) from None
        if processes < 1:
            raise CommandError(_("--processes must be 1 or more."))
        if processes > 1 and task_worker:
            raise CommandError(
                _("Background tasks run in one process: with --processes, run `mirador worker`.")
            )
        host, port = server_address()
        ensure_port_free(host, port, command="serve")
        run_server(
            host=host,
            port=port,
            threads=threads,
            command="serve",
            stdout=self.stdout,
            task_worker=task_worker,
            processes=processes,
        )
