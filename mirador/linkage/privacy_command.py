"""The private-linkage modes of `mirador link` (see docs/private-linkage.md):

    mirador link keygen --out KEY                     a new key for an exchange agreement
    mirador link encode FILE --key-file KEY --out ENCODED.parquet
    mirador link match-encoded A B --out DIR [--key-file KEY] [--threshold P]

`encode` reads the same CSV or Parquet files as `mirador link dedupe` (the command's own reading
and messages) and writes only encodings; `match-encoded` needs no key (the linkage unit should
not hold it) and refuses files of different keys or schemas; given a key, it also checks that
the files were encoded with it. The key is never printed, logged or written beside the
encodings.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from mirador.linkage import engine, privacy

if TYPE_CHECKING:
    from mirador.linkage.management.commands.link import Command

PRIVATE_MODES = ("keygen", "encode", "match-encoded")
FILES_OF_MODE = {"keygen": 0, "encode": 1, "match-encoded": 2}


def error_message(error: privacy.PrivateLinkageError) -> str:
    """One sentence in the user's language for each refusal of private linkage."""
    params = {"file": "", "variable": privacy.KEY_ENVIRONMENT, "reason": "", **error.params}
    templates = {
        "bad_key": _(
            "The key is not a Mirador linkage key (64 hexadecimal digits); make one with "
            "“mirador link keygen”."
        ),
        "no_key": _("No key was given: use --key-file or set the variable %(variable)s."),
        "key_unreadable": _("%(file)s: the key file cannot be read."),
        "key_mismatch": _(
            "The two files were encoded with different keys, so nothing in them can be "
            "compared: both countries must encode with the key of their agreement."
        ),
        "schema_mismatch": _(
            "The two files were encoded with different schemas (filters, fields or blocks), so "
            "they cannot be compared: encode both with the same version of Mirador."
        ),
        "wrong_key": _(
            "%(file)s was not encoded with this key (its key fingerprint differs), so it is "
            "refused."
        ),
        "not_encoded": _(
            "%(file)s is not a file of encodings written by “mirador link encode” (%(reason)s)."
        ),
        "bad_threshold": _("--threshold must be a probability above 0 and at most 1."),
    }
    template = templates.get(error.code)
    return template % params if template else str(error)


def _key(options: dict[str, Any]) -> privacy.LinkageKey:
    path: Path | None = options.get("key_file")
    try:
        return privacy.key_read(
            path=path, environment=options.get("key_env") or privacy.KEY_ENVIRONMENT
        )
    except privacy.PrivateLinkageError as error:
        raise CommandError(error_message(error)) from None


def handle(command: Command, mode: str, files: list[Path], options: dict[str, Any]) -> None:
    """Run one private-linkage mode of `mirador link`."""
    expected = FILES_OF_MODE[mode]
    if len(files) != expected:
        raise CommandError(
            _("link %(mode)s takes %(expected)d file(s); %(count)d given.")
            % {"mode": mode, "expected": expected, "count": len(files)}
        )
    out: Path = options["out"]
    if mode == "keygen":
        _keygen(command, out)
    elif mode == "encode":
        _encode(command, files[0], out, options)
    else:
        _match(command, files, out, options)


def _keygen(command: Command, out: Path) -> None:
    try:
        privacy.key_write(out, privacy.key_generate())
    except FileExistsError:
        raise CommandError(
            _("%(file)s already exists; a key is never overwritten.") % {"file": out}
        ) from None
    except OSError as error:
        raise CommandError(
            _("%(file)s: the key could not be written (%(reason)s).")
            % {"file": out, "reason": error.strerror or error.__class__.__name__}
        ) from None
    fingerprint = privacy.key_read(path=out).fingerprint
    command.stdout.write(
        _(
            "A new key is in %(file)s (readable by you only; fingerprint %(fingerprint)s). "
            "Give it to the other country by a channel of your agreement, never with the "
            "encoded files."
        )
        % {"file": out, "fingerprint": fingerprint}
    )


def _encode(command: Command, path: Path, out: Path, options: dict[str, Any]) -> None:
    started = time.perf_counter()
    key = _key(options)
    raw, blank = command._read(path)
    prepared = command._prepare(path, raw, extra_columns=[], source=path.name)
    encoded = privacy.encode(prepared, key=key, prepared=True)
    if out.is_dir():
        out = out / f"{path.stem}.encoded.parquet"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        privacy.write_encoded(out, encoded, source=path.name)
    except OSError as error:
        raise CommandError(
            _("%(file)s: the encodings could not be written (%(reason)s).")
            % {"file": out, "reason": error.strerror or error.__class__.__name__}
        ) from None
    command.stdout.write(
        _(
            "%(file)s: %(rows)d rows read, %(skipped)d skipped (blank lines); %(records)d "
            "records encoded in %(encodings)d encodings (%(unblocked)d with nothing to block "
            "on, kept but compared with nothing). Key fingerprint %(fingerprint)s. Written to "
            "%(out)s, %(seconds).1f s: send this file only."
        )
        % {
            "file": path,
            "rows": len(raw) + blank,
            "skipped": blank,
            "records": encoded.records,
            "encodings": len(encoded),
            "unblocked": encoded.unblocked,
            "fingerprint": encoded.fingerprint,
            "out": out,
            "seconds": time.perf_counter() - started,
        }
    )


def _read_encoded(path: Path) -> privacy.EncodedRecords:
    if not path.exists():
        raise CommandError(_("%(file)s: no such file.") % {"file": path})
    if path.is_dir():
        raise CommandError(_("%(file)s: is a directory, not a file.") % {"file": path})
    if path.stat().st_size == 0:
        raise CommandError(_("%(file)s: the file is empty.") % {"file": path})
    try:
        return privacy.read_encoded(path)
    except privacy.PrivateLinkageError as error:
        raise CommandError(error_message(error)) from None


def _match(command: Command, files: list[Path], out: Path, options: dict[str, Any]) -> None:
    started = time.perf_counter()
    left, right = (_read_encoded(path) for path in files)
    if options.get("key_file") is not None:
        fingerprint = _key(options).fingerprint
        for path, encoded in zip(files, (left, right), strict=True):
            if encoded.fingerprint != fingerprint:
                raise CommandError(
                    error_message(
                        privacy.PrivateLinkageError("wrong_key", "wrong key", file=str(path))
                    )
                )
    sources = (files[0].name, files[1].name)
    if sources[0] == sources[1]:
        sources = ("left", "right")

    def progress(message: str) -> None:
        command.stderr.write(f"  {message}")

    try:
        outcome = privacy.match(
            left,
            right,
            threshold=options["threshold"],
            max_pairs=options.get("max_pairs"),
            sources=sources,
            progress=progress,
        )
    except privacy.PrivateLinkageError as error:
        raise CommandError(error_message(error)) from None
    except engine.TooManyPairsError as error:
        from mirador.linkage.management.commands.link import too_many_pairs_message

        raise CommandError(too_many_pairs_message(error)) from None
    suffix = options.get("format") or "csv"
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in (("pairs", outcome.pairs), ("clusters", outcome.clusters)):
            target = out / f"{name}.{suffix}"
            if suffix == "parquet":
                frame.to_parquet(target, index=False)
            else:
                frame.to_csv(target, index=False)
        run = {
            "inputs": [str(path) for path in files],
            "key_fingerprint": left.fingerprint,
            "schema": left.schema.as_dict(),
            "threshold": outcome.threshold,
            "records": list(outcome.records),
            "encoding_pairs_compared": outcome.candidates,
            "pairs": len(outcome.pairs),
            "model": outcome.model,
            "seconds": {key: round(value, 2) for key, value in outcome.seconds.items()},
            "finished_at": timezone.now().isoformat(),
        }
        (out / "run.json").write_text(json.dumps(run, indent=1), encoding="utf-8")
    except OSError as error:
        raise CommandError(
            _("%(dir)s: the results could not be written (%(reason)s).")
            % {"dir": out, "reason": error.strerror or error.__class__.__name__}
        ) from None
    linked = outcome.clusters[outcome.clusters["cluster_size"] > 1]
    command.stdout.write(
        _(
            "%(left)d and %(right)d records compared on their encodings (%(candidates)d pairs "
            "of encodings in shared blocks); %(pairs)d pairs at match probability "
            "%(threshold)s or more; %(clusters)d clusters of two or more records. Results in "
            "%(out)s (%(files)s), %(seconds).1f s."
        )
        % {
            "left": outcome.records[0],
            "right": outcome.records[1],
            "candidates": outcome.candidates,
            "pairs": len(outcome.pairs),
            "threshold": outcome.threshold,
            "clusters": linked["cluster_id"].nunique(),
            "out": out,
            "files": f"pairs.{suffix}, clusters.{suffix}, run.json",
            "seconds": time.perf_counter() - started,
        }
    )
