"""`python -m bare_site create-table` or `python -m bare_site serve PORT THREADS [PROCESSES]`,
with benchmarks/ on PYTHONPATH and BARE_DATABASE_URL set. Serving is `mirador serve`'s without
Mirador: with one process waitress's create_server with the same thread count, as
`run_server` does; with several, `run_processes` itself (gunicorn's threaded workers)."""

from __future__ import annotations

import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bare_site.settings")
    django.setup()
    command = sys.argv[1]
    if command == "create-table":
        from django.core.management import call_command

        call_command("migrate", run_syncdb=True, verbosity=0)
    elif command == "serve":
        from waitress.server import create_server  # type: ignore[import-untyped, unused-ignore]

        from bare_site.wsgi import application

        port, threads = int(sys.argv[2]), int(sys.argv[3])
        processes = int(sys.argv[4]) if len(sys.argv) > 4 else 1
        if processes > 1:
            from mirador.core.management.commands.serve import run_processes

            run_processes(
                application="bare_site.wsgi:application",
                host="127.0.0.1",
                port=port,
                threads=threads,
                processes=processes,
                stdout=sys.stdout,
            )
            return
        server = create_server(application, host="127.0.0.1", port=port, threads=threads)
        print(f"bare site on 127.0.0.1:{port}", flush=True)
        server.run()
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
