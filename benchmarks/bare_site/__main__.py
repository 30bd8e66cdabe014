"""`python -m bare_site create-table` or `python -m bare_site serve PORT THREADS`, with
benchmarks/ on PYTHONPATH and BARE_DATABASE_URL set. Serving is mirador.core's
`run_server` path without Mirador: waitress's create_server with the same thread count."""

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
        server = create_server(application, host="127.0.0.1", port=port, threads=threads)
        print(f"bare site on 127.0.0.1:{port}", flush=True)
        server.run()
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
