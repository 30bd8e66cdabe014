"""The `mirador` command: Django's management commands with Mirador's names.

mirador demo       set up the embedded database, load the demo region, serve it
mirador serve      serve Mirador (waitress) on MIRADOR_PORT
mirador worker     run background tasks
mirador migrate    create or update the database schema and reference data
mirador <command>  any other Django management command (`mirador help` lists them)

`mirador <command> --help` shows what a command accepts.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import textwrap
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

ALIASES = {"worker": "db_worker"}


def operator_language(environment: Mapping[str, str]) -> str:
    """The language the command line speaks: MIRADOR_LANGUAGE if set, else the operator's
    locale (LC_ALL, LC_MESSAGES, LANG, as gettext reads them), Spanish for es_*, else English."""
    for name in ("MIRADOR_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environment.get(name, "").strip().lower()
        if value:
            return "es" if value.startswith("es") else "en"
    return "en"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirador.settings")
    if not args or args[0] in {"-h", "--help"} or args == ["help"]:
        return print_help()
    if args[0] == "help":
        args = [args[1], "--help"]
    if args[0] in {"--version", "version"}:
        from importlib.metadata import version

        print(version("mirador"))
        return 0
    name = ALIASES.get(args[0], args[0])
    show_traceback = "--traceback" in args
    try:
        import django

        django.setup()
        from django.utils import translation

        translation.activate(operator_language(os.environ))
        return run_command(name, args[1:])
    except ImproperlyConfigured as error:
        if show_traceback:
            raise
        print(f"mirador: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        from django.db import OperationalError

        if show_traceback or not isinstance(error, OperationalError):
            raise
        # A database that cannot be reached is an operator's problem, not a bug: say so in one
        # sentence instead of a traceback.
        reason = (str(error).strip().splitlines() or ["no reason given"])[0].rstrip(".")
        print(
            f"mirador: the database did not answer ({reason}): check MIRADOR_DATABASE_URL and "
            "that the database server is running.",
            file=sys.stderr,
        )
        return 1


def print_help() -> int:
    print(__doc__)
    try:
        import django

        django.setup()
        from django.core.management import get_commands
    except ImproperlyConfigured as error:
        print(f"(The command list needs a valid configuration: {error})")
        return 0
    names = sorted({*get_commands(), *ALIASES} - set(ALIASES.values()))
    print("Commands:")
    print(textwrap.fill(", ".join(names), width=88, initial_indent="  ", subsequent_indent="  "))
    return 0


def run_command(name: str, argv: list[str]) -> int:
    """Run one management command as Django's `run_from_argv` does, but report a wrong
    command or wrong arguments in one sentence instead of a usage dump."""
    from django.core.management import get_commands, load_command_class
    from django.core.management.base import (
        BaseCommand,
        CommandError,
        SystemCheckError,
        handle_default_options,
    )
    from django.db import connections

    commands = get_commands()
    if name not in commands:
        known = sorted({*commands, *ALIASES})
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        print(
            f"mirador: '{name}' is not a Mirador command{hint}: run `mirador help` to list "
            "the commands.",
            file=sys.stderr,
        )
        return 2
    app_name = commands[name]
    command = app_name if isinstance(app_name, BaseCommand) else load_command_class(app_name, name)
    if type(command).run_from_argv is not BaseCommand.run_from_argv:
        # A command that builds its own parser (Django's `test`) keeps Django's handling.
        command.run_from_argv(["mirador", name, *argv])
        return 0

    # Not marked as called from the command line, Django's parser raises CommandError on
    # wrong arguments instead of printing the usage and exiting.
    parser = command.create_parser("mirador", name)
    try:
        options = parser.parse_args(argv)
    except CommandError as error:
        message = str(error).removeprefix("Error: ").rstrip(".")
        print(
            f"mirador {name}: {message}; run `mirador {name} --help` to see what it accepts.",
            file=sys.stderr,
        )
        return 2
    command_options = vars(options)
    positional = command_options.pop("args", ())
    handle_default_options(options)
    try:
        command.execute(*positional, **command_options)
    except CommandError as error:
        if options.traceback:
            raise
        if isinstance(error, SystemCheckError):
            print(error, file=sys.stderr)
        else:
            print(f"mirador {name}: {error}", file=sys.stderr)
        return error.returncode
    finally:
        with contextlib.suppress(ImproperlyConfigured):
            connections.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
