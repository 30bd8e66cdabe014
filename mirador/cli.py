"""The `mirador` command: Django's management commands with Mirador's names.

mirador demo       set up the embedded database, load the demo region, serve it
mirador serve      serve Mirador (waitress) on MIRADOR_PORT
mirador worker     run background tasks
mirador migrate    create or update the database schema and reference data
mirador <command>  any other Django management command
"""

from __future__ import annotations

import os
import sys

from django.core.exceptions import ImproperlyConfigured

ALIASES = {"worker": "db_worker"}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirador.settings")
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    args[0] = ALIASES.get(args[0], args[0])
    try:
        import django

        django.setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["mirador", *args])
    except ImproperlyConfigured as error:
        print(f"mirador: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
