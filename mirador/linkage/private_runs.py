"""Private linkage through the API (docs/private-linkage.md): starting an `encode` or a
`match_encoded` run on uploaded files (a service) and the background task's work for them, with
progress, beside the other linkage runs of runs.py.

- **encode**: a country encodes one file of its records (the columns of `mirador link`) with the
  key of its exchange agreement, which this server holds (`server_key`); the result is
  `encoded.parquet`, the file sent to the other country or to the linkage unit.
- **match_encoded**: whoever matches (ideally a linkage unit without the key) compares two
  encoded files; the results are pairs and clusters of record ids, as for a pairs run. No key
  is needed or used.

The key is never given in a request, stored in the database, passed to the task (the database
task backend keeps a task's arguments in its table), logged or written beside the results: the
operator configures it for the web server and the worker alike, in a key file named by
MIRADOR_LINKAGE_KEY_FILE or in the variable MIRADOR_LINKAGE_KEY, and the task reads it from
there when it runs. The run keeps only the key's fingerprint (a keyed digest, also written in
every encoded file), so that a key changed between the start and the task is noticed.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mirador.accounts import permissions
from mirador.core.errors import ApplicationError, PermissionDeniedError
from mirador.linkage import engine, privacy
from mirador.linkage.models import LinkageRun, RunKind, RunStatus
from mirador.linkage.privacy_command import error_message
from mirador.linkage.runs import (
    ENCODED_RESULT,
    LinkageUploadError,
    _check_upload,
    _input_path,
    _RunFailed,
    _update,
    run_directory,
    run_store,
)

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from mirador.accounts.models import User

logger = logging.getLogger(__name__)

PRIVATE_KINDS = (RunKind.ENCODE, RunKind.MATCH_ENCODED)
KEY_FILE_VARIABLE = "MIRADOR_LINKAGE_KEY_FILE"
ENCODED_SUFFIXES = (".parquet", ".pq")
# privacy.match's progress messages, and how far along the run is when each comes.
MATCH_STAGES = (
    ("blocking", "blocking would compare", 0.2),
    ("comparing", "comparing encodings", 0.3),
    ("estimating", "estimating the model", 0.7),
)


class NoServerKeyError(ApplicationError):
    code = "linkage_no_key"
    http_status = 400
    default_message = gettext_lazy(
        "This server holds no private-linkage key, so it cannot encode: its operator gives the "
        "web server and the task worker the agreement's key in a file named by "
        "MIRADOR_LINKAGE_KEY_FILE (made by “mirador link keygen”) or in the variable "
        "MIRADOR_LINKAGE_KEY."
    )


class ServerKeyUnusableError(ApplicationError):
    code = "linkage_bad_key"
    http_status = 400
    default_message = gettext_lazy(
        "The private-linkage key this server holds cannot be read or is not a Mirador linkage "
        "key (64 hexadecimal digits): its operator must check MIRADOR_LINKAGE_KEY_FILE or "
        "MIRADOR_LINKAGE_KEY."
    )


class EncodedFilesRefusedError(ApplicationError):
    """Two encoded files that cannot be compared (different keys or schemas)."""

    code = "linkage_files_incompatible"
    http_status = 400
    default_message = gettext_lazy("The two encoded files cannot be compared.")


def server_key() -> privacy.LinkageKey:
    """The agreement's key this server holds: the file named by MIRADOR_LINKAGE_KEY_FILE (a
    setting or the environment), else the text of the variable MIRADOR_LINKAGE_KEY."""
    configured = getattr(settings, KEY_FILE_VARIABLE, None) or os.environ.get(KEY_FILE_VARIABLE)
    try:
        if configured:
            return privacy.key_read(path=Path(configured))
        return privacy.key_read(environment=privacy.KEY_ENVIRONMENT)
    except privacy.PrivateLinkageError as error:
        if error.code == "no_key":
            raise NoServerKeyError() from None
        # The code only: the message may name the file, never the key, but the log needs neither.
        logger.warning("the server's private-linkage key is unusable (%s)", error.code)
        raise ServerKeyUnusableError() from None


def _encoded_footer(file: UploadedFile, name: str) -> privacy.EncodedRecords:
    """The schema and key fingerprint of an uploaded encoded file, from its Parquet footer only
    (the encodings are read by the task), refused with `mirador link`'s message."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def refused(reason: str) -> LinkageUploadError:
        return LinkageUploadError(
            error_message(
                privacy.PrivateLinkageError("not_encoded", reason, file=name, reason=reason)
            )
        )

    try:
        file.seek(0)
        schema = pq.read_schema(file)
    except (OSError, pa.ArrowException) as error:
        raise refused((str(error).strip().splitlines() or [type(error).__name__])[0]) from None
    finally:
        file.seek(0)
    raw = (schema.metadata or {}).get(privacy.METADATA_KEY)
    if raw is None or any(column not in schema.names for column in privacy.ENCODED_COLUMNS):
        raise refused("no schema")
    try:
        metadata = json.loads(raw)
        encoding_schema = privacy.EncodingSchema.from_dict(metadata["schema"])
    except (ValueError, KeyError, TypeError) as error:
        raise refused(type(error).__name__) from None
    return privacy.EncodedRecords(
        record_ids=np.empty(0, dtype=object),
        blocks=np.empty(0, dtype=np.uint32),
        bits=np.empty((0, encoding_schema.words), dtype=np.uint64),
        schema=encoding_schema,
        fingerprint=str(metadata.get("key_fingerprint", "")),
    )


@transaction.atomic
def private_run_start(
    *,
    actor: User,
    kind: str,
    files: Sequence[UploadedFile],
    threshold: float = privacy.DEFAULT_THRESHOLD,
) -> LinkageRun:
    """Keep the uploaded files and queue a private-linkage run: `encode` one file of records
    with the server's key, or `match_encoded` two encoded files (left, right). Refused at
    once: a wrong number of files, a file that is not CSV or Parquet (encode) or not a file of
    encodings (match), empty or over MIRADOR_LINKAGE_MAX_UPLOAD_MB; no key on this server
    (encode); two files of different keys or schemas (match), with `mirador link`'s message."""
    from mirador.linkage.tasks import linkage_run_task

    if not permissions.can_run_linkage(actor):
        raise PermissionDeniedError()
    if kind not in PRIVATE_KINDS:
        raise LinkageUploadError(_("The kind of private-linkage run is encode or match_encoded."))
    expected = 1 if kind == RunKind.ENCODE else 2
    if len(files) != expected:
        raise LinkageUploadError(
            _(
                "An encode run takes one file, a match_encoded run two encoded files (left and "
                "right); %(count)d given."
            )
            % {"count": len(files)}
        )
    if not 0 < threshold <= 1:
        raise LinkageUploadError(_("The threshold must be a probability above 0 and at most 1."))
    names = [_check_upload(file) for file in files]
    summary: dict[str, Any] = {}
    if kind == RunKind.ENCODE:
        summary["key_fingerprint"] = server_key().fingerprint
    else:
        for name in names:
            if Path(name).suffix.lower() not in ENCODED_SUFFIXES:
                raise LinkageUploadError(
                    _(
                        "%(file)s: encoded files are Parquet (.parquet), as “mirador link encode” "
                        "writes them."
                    )
                    % {"file": name}
                )
        left, right = (_encoded_footer(f, n) for f, n in zip(files, names, strict=True))
        try:
            privacy.check_compatible(left, right)
        except privacy.PrivateLinkageError as error:
            raise EncodedFilesRefusedError(error_message(error)) from None
        summary["key_fingerprint"] = left.fingerprint
    run = LinkageRun(
        kind=kind, threshold=threshold, summary=summary, created_by=actor, modified_by=actor
    )
    run_store(
        run,
        files,
        names,
        actor=actor,
        details={"kind": kind, "files": names, "key_fingerprint": summary["key_fingerprint"]},
    )
    # Only the run's id goes to the task's row: the key stays where the operator put it.
    linkage_run_task.enqueue(str(run.pk))
    return run


# --- The task's work (called by runs.linkage_run_execute, which ends a failed run) ------------


def private_run_execute(run: LinkageRun) -> None:
    paths = [_input_path(run, index) for index in range(len(run.inputs))]

    def shown(message: str) -> str:
        for path in paths:
            message = message.replace(str(path), path.name)
        return message

    if run.kind == RunKind.ENCODE:
        _encode(run, paths[0], shown)
    else:
        _match(run, paths, shown)


def _encode(run: LinkageRun, path: Path, shown: Any) -> None:
    from django.core.management.base import CommandError

    from mirador.linkage.management.commands.link import Command

    try:
        key = server_key()
    except ApplicationError as error:
        raise _RunFailed(error.message) from None
    if key.fingerprint != run.summary.get("key_fingerprint"):
        raise _RunFailed(
            _(
                "The server's private-linkage key changed after the run was started, so the "
                "file was not encoded: start the run again."
            )
        )
    # The command's own reading and messages, so that the API says what `mirador link` says.
    command = Command(stdout=StringIO(), stderr=StringIO())
    try:
        raw, blank = command._read(path)
        _update(
            run, rows_read=len(raw) + blank, rows_skipped=blank, stage="preparing", progress=0.1
        )
        prepared = command._prepare(path, raw, extra_columns=[], source=path.name)
    except CommandError as error:
        raise _RunFailed(shown(str(error))) from None
    _update(
        run,
        skipped_reasons={"blank lines": blank} if blank else {},
        stage="encoding",
        progress=0.3,
    )
    encoded = privacy.encode(prepared, key=key, prepared=True)
    _update(run, stage="writing", progress=0.9)
    directory = run_directory(run)
    directory.mkdir(parents=True, exist_ok=True)
    privacy.write_encoded(directory / ENCODED_RESULT, encoded, source=path.name)
    _update(
        run,
        status=RunStatus.DONE,
        stage="done",
        progress=1.0,
        summary={
            "key_fingerprint": encoded.fingerprint,
            "records": encoded.records,
            "encodings": len(encoded),
            "unblocked_records": encoded.unblocked,
        },
        finished_at=timezone.now(),
    )


def _match(run: LinkageRun, paths: list[Path], shown: Any) -> None:
    from mirador.linkage.management.commands.link import too_many_pairs_message

    try:
        left, right = (privacy.read_encoded(path) for path in paths)
    except privacy.PrivateLinkageError as error:
        raise _RunFailed(shown(error_message(error))) from None
    _update(run, rows_read=len(left) + len(right), stage="preparing", progress=0.1)
    sources = (paths[0].name, paths[1].name)
    if sources[0] == sources[1]:
        sources = ("left", "right")

    def progress(message: str) -> None:
        for stage, marker, fraction in MATCH_STAGES:
            if marker in message and fraction > run.progress:
                _update(run, stage=stage, progress=fraction)

    try:
        outcome = privacy.match(
            left, right, threshold=run.threshold, sources=sources, progress=progress
        )
    except privacy.PrivateLinkageError as error:
        raise _RunFailed(shown(error_message(error))) from None
    except engine.TooManyPairsError as error:
        raise _RunFailed(too_many_pairs_message(error)) from None
    _update(run, stage="writing", progress=0.9)
    directory = run_directory(run)
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in (("pairs", outcome.pairs), ("clusters", outcome.clusters)):
        frame.to_csv(directory / f"{name}.csv", index=False)
        frame.to_parquet(directory / f"{name}.parquet", index=False)
    linked = outcome.clusters[outcome.clusters["cluster_size"] > 1]
    _update(
        run,
        status=RunStatus.DONE,
        stage="done",
        progress=1.0,
        pairs=len(outcome.pairs),
        clusters=int(linked["cluster_id"].nunique()),
        summary={
            "key_fingerprint": left.fingerprint,
            "records": list(outcome.records),
            "encoding_pairs_compared": outcome.candidates,
            "model": outcome.model,
            "seconds": {key: round(value, 2) for key, value in outcome.seconds.items()},
        },
        finished_at=timezone.now(),
    )
