"""Check that Mirador's translation catalogues are complete and current.

    scripts/check-translations            check (CI runs this); exit 1 with the reasons if not
    scripts/check-translations --update   rewrite the .po files from the code, keeping every
                                          translation already made, and compile the .mo files

The check regenerates each catalogue with `makemessages` in a temporary copy of the package,
so it never touches the working tree, and compares message ids, not files: the result does not
depend on dates, line numbers or the gettext version. It fails when
  - the code has a string the .po lacks, or the .po has one the code no longer uses (stale);
  - a string has no translation, or only a fuzzy one (untranslated);
  - the committed .mo does not hold what its .po says (not compiled).

Translating: run `--update`, fill in every empty msgstr in mirador/locale/<lang>/LC_MESSAGES/
django.po (and remove any `#, fuzzy` line after checking the guess), run `--update` again to
compile, and commit both the .po and the .mo. Needs gettext (xgettext, msgmerge, msgfmt).
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGE = REPOSITORY / "mirador"
PYTHON = REPOSITORY / ".venv" / "bin" / "python"
# Spanish is translated from the English source strings; add a language here and in
# settings.LANGUAGES together.
LOCALES = ["es"]
DOMAIN = "django"
MAKEMESSAGES_OPTIONS = ["--no-location", "--no-obsolete", "--no-wrap", "--ignore", "tests"]

Key = tuple[str | None, str, str | None]  # (msgctxt, msgid, msgid_plural)


@dataclass
class Entry:
    context: str | None = None
    msgid: str | None = None
    plural: str | None = None
    translations: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> Key:
        return (self.context, self.msgid or "", self.plural)

    @property
    def is_translated(self) -> bool:
        return "fuzzy" not in self.flags and bool(self.translations) and all(self.translations)


def unquote(text: str) -> str:
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"not a quoted string: {text}")
    body = text[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            out.append(escapes.get(body[index + 1], body[index + 1]))
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file as makemessages writes them (header excluded)."""
    entries: list[Entry] = []
    entry = Entry()
    field_name: str | None = None

    def finish() -> None:
        nonlocal entry, field_name
        if entry.msgid is not None:
            entries.append(entry)
        entry = Entry()
        field_name = None

    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            finish()
            continue
        if line.startswith("#,"):
            if entry.msgid is not None:
                finish()
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            if entry.msgid is not None:
                finish()
            continue
        keyword, _, rest = line.partition(" ")
        starts_entry = keyword == "msgctxt" or (keyword == "msgid" and entry.translations)
        if starts_entry and entry.msgid is not None:
            finish()
        entry.obsolete = entry.obsolete or obsolete
        if keyword == "msgctxt":
            entry.context, field_name = unquote(rest), "msgctxt"
        elif keyword == "msgid":
            entry.msgid, field_name = unquote(rest), "msgid"
        elif keyword == "msgid_plural":
            entry.plural, field_name = unquote(rest), "msgid_plural"
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            entry.translations.append(unquote(rest))
            field_name = "msgstr"
        elif line.startswith('"'):
            text = unquote(line)
            if field_name == "msgctxt":
                entry.context = (entry.context or "") + text
            elif field_name == "msgid":
                entry.msgid = (entry.msgid or "") + text
            elif field_name == "msgid_plural":
                entry.plural = (entry.plural or "") + text
            elif field_name == "msgstr":
                entry.translations[-1] += text
        else:
            raise ValueError(f"{path}: cannot read the line {raw_line!r}")
    finish()
    return [entry for entry in entries if entry.msgid != "" and not entry.obsolete]


def run(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(  # noqa: S603 (our own commands, no shell)
        command, capture_output=True, text=True, check=False, cwd=cwd, env=env
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"check-translations: `{' '.join(command)}` failed (its output is above).")


def regenerate(workspace: Path) -> Path:
    """Run makemessages on a copy of the package; return the copy's locale directory."""
    copy = workspace / "mirador"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MIRADOR_", "DJANGO_"))
    }
    # The copy shadows the installed package, so LOCALE_PATHS points into the copy.
    environment.update(PYTHONPATH=str(workspace), MIRADOR_DATA_DIR=str(workspace / "var"))
    command = [str(PYTHON), "-m", "mirador.cli", "makemessages", "--verbosity", "0"]
    for locale in LOCALES:
        command += ["--locale", locale]
    run(command + MAKEMESSAGES_OPTIONS, cwd=copy, env=environment)
    for locale in LOCALES:
        tidy_header(copy / "locale" / locale / "LC_MESSAGES" / f"{DOMAIN}.po", locale)
    return copy / "locale"


def tidy_header(path: Path, locale: str) -> None:
    """A new catalogue's header comes marked fuzzy, which makes msgfmt drop its charset and
    plural rule; state them instead."""
    text = path.read_text(encoding="utf-8")
    header, separator, body = text.partition('msgid ""\nmsgstr ""\n')
    header = header.replace("#, fuzzy\n", "")
    header = header.replace("# SOME DESCRIPTIVE TITLE.\n", "# Mirador.\n")
    header = header.replace(
        "# Copyright (C) YEAR THE PACKAGE'S COPYRIGHT HOLDER\n"
        "# This file is distributed under the same license as the PACKAGE package.\n"
        "# FIRST AUTHOR <EMAIL@ADDRESS>, YEAR.\n",
        "# This file is distributed under the same license as Mirador (AGPL-3.0-or-later).\n",
    )
    body = body.replace('"Language: \\n"', f'"Language: {locale}\\n"', 1)
    body = body.replace(
        '"Project-Id-Version: PACKAGE VERSION\\n"', '"Project-Id-Version: Mirador\\n"', 1
    )
    path.write_text(header + separator + body, encoding="utf-8")


def compile_catalogue(po: Path, mo: Path) -> None:
    run(["msgfmt", "--check-format", "--output-file", str(mo), str(po)])


def catalogue(mo: Path) -> dict[object, str]:
    with mo.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]


def describe(key: Key) -> str:
    context, msgid, _ = key
    return repr(msgid) + (f" (context {context!r})" if context else "")


def check(fresh_locale_dir: Path, workspace: Path) -> list[str]:
    problems: list[str] = []
    for locale in LOCALES:
        relative = Path(locale) / "LC_MESSAGES"
        po = PACKAGE / "locale" / relative / f"{DOMAIN}.po"
        mo = po.with_suffix(".mo")
        shown = po.relative_to(REPOSITORY)
        if not po.exists():
            problems.append(f"{shown} does not exist: run scripts/check-translations --update.")
            continue
        fresh = {entry.key for entry in parse_po(fresh_locale_dir / relative / f"{DOMAIN}.po")}
        committed = parse_po(po)
        committed_keys = {entry.key for entry in committed}
        for key in sorted(fresh - committed_keys, key=str):
            problems.append(f"{shown} lacks {describe(key)}, which the code uses.")
        for key in sorted(committed_keys - fresh, key=str):
            problems.append(f"{shown} has {describe(key)}, which the code no longer uses.")
        for entry in committed:
            if not entry.is_translated:
                state = "a fuzzy translation" if "fuzzy" in entry.flags else "no translation"
                problems.append(f"{shown}: {describe(entry.key)} has {state}.")
        if not mo.exists():
            problems.append(f"{mo.relative_to(REPOSITORY)} does not exist: compile it.")
        else:
            expected = workspace / f"expected-{locale}.mo"
            compile_catalogue(po, expected)
            if catalogue(expected) != catalogue(mo):
                problems.append(f"{mo.relative_to(REPOSITORY)} does not match {shown}: compile it.")
    return problems


def update(fresh_locale_dir: Path) -> None:
    for locale in LOCALES:
        relative = Path(locale) / "LC_MESSAGES" / f"{DOMAIN}.po"
        po = PACKAGE / "locale" / relative
        po.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fresh_locale_dir / relative, po)
        compile_catalogue(po, po.with_suffix(".mo"))
        entries = parse_po(po)
        missing = sum(1 for entry in entries if not entry.is_translated)
        print(
            f"{po.relative_to(REPOSITORY)}: {len(entries)} strings, {missing} to translate; "
            f"{po.with_suffix('.mo').relative_to(REPOSITORY)} compiled."
        )


def main(arguments: list[str]) -> int:
    if arguments not in ([], ["--update"]):
        print(
            "check-translations: the only option is --update; see the top of "
            "scripts/check_translations.py for what it does.",
            file=sys.stderr,
        )
        return 2
    if not PYTHON.exists():
        print("check-translations: .venv is missing: run scripts/setup first.", file=sys.stderr)
        return 1
    for program in ("xgettext", "msgmerge", "msgfmt"):
        if shutil.which(program) is None:
            print(
                f"check-translations: {program} is missing: install gettext "
                "(apt-get install gettext) and run this again.",
                file=sys.stderr,
            )
            return 1
    with tempfile.TemporaryDirectory(prefix="mirador-translations-") as name:
        workspace = Path(name)
        fresh_locale_dir = regenerate(workspace)
        if arguments == ["--update"]:
            update(fresh_locale_dir)
            return 0
        problems = check(fresh_locale_dir, workspace)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(
            f"check-translations: {len(problems)} problem(s): run scripts/check-translations "
            "--update, translate the empty msgstr entries, run --update again, and commit.",
            file=sys.stderr,
        )
        return 1
    print("Translations are complete and current.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
