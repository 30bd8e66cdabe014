"""Linkage runs through the API: starting one on uploaded files (a service), the background
task's work (the engine on the stored files, with progress), and the results it writes.

A run's files live under DATA_DIR/linkage/<run id>/: the inputs in inputs/1/ and inputs/2/,
the results (pairs and clusters, CSV and Parquet) beside them. The database holds only the
names, sizes and SHA-256 digests of the inputs, never their contents. Bad files end the run
as failed with the message `mirador link` gives, naming the file as it was uploaded. The
private-linkage runs (encode, match_encoded) are started and done by private_runs.py, on the
same files, task and progress.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Sequence
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mirador.accounts import permissions
from mirador.core.audit import audit_record, request_context
from mirador.core.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from mirador.core.models import AuditAction
from mirador.linkage import engine
from mirador.linkage.models import LinkageRun, RunKind, RunStatus
from mirador.linkage.selectors import linkage_model_get

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from mirador.accounts.models import User

logger = logging.getLogger(__name__)

SUFFIXES = (".csv", ".parquet", ".pq")
RESULTS = ("pairs.csv", "pairs.parquet", "clusters.csv", "clusters.parquet")
# What an encode run gives (private_runs.py): the file of encodings, nothing else.
ENCODED_RESULT = "encoded.parquet"
DEFAULT_MAX_UPLOAD_MB = 200
# The engine's progress messages, and how far along the run is when each comes.
STAGES = (
    ("identical", "identical records", 0.15),
    ("blocking", "blocking", 0.25),
    ("training", "training", 0.35),
    ("scoring", "scoring", 0.6),
)


class LinkageUploadError(ApplicationError):
    code = "linkage_bad_upload"
    http_status = 422
    default_message = gettext_lazy("The files given cannot be linked.")


class LinkageUploadTooLargeError(ApplicationError):
    code = "upload_too_large"
    http_status = 413
    default_message = gettext_lazy("The file is too large.")


def max_upload_mb() -> int:
    """MIRADOR_LINKAGE_MAX_UPLOAD_MB (setting or environment), 200 by default."""
    value = getattr(settings, "MIRADOR_LINKAGE_MAX_UPLOAD_MB", None)
    if value is None:
        raw = os.environ.get("MIRADOR_LINKAGE_MAX_UPLOAD_MB", "")
        value = int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_UPLOAD_MB
    return int(value)


def run_results(run: LinkageRun) -> tuple[str, ...]:
    """The names of the results a run of its kind writes."""
    return (ENCODED_RESULT,) if run.kind == RunKind.ENCODE else RESULTS


def run_directory(run: LinkageRun) -> Path:
    return Path(settings.DATA_DIR) / "linkage" / str(run.pk)


def _input_path(run: LinkageRun, index: int) -> Path:
    return run_directory(run) / "inputs" / str(index + 1) / run.inputs[index]["name"]


def _check_upload(file: UploadedFile) -> str:
    name = get_valid_filename(Path(file.name or "").name)[:200]
    if not name or Path(name).suffix.lower() not in SUFFIXES:
        raise LinkageUploadError(
            _("%(file)s: only CSV (.csv) and Parquet (.parquet) files can be linked.")
            % {"file": name or "?"}
        )
    limit = max_upload_mb()
    if file.size is not None and file.size > limit * 1024 * 1024:
        raise LinkageUploadTooLargeError(
            _("%(file)s is %(size)s MB; files of more than %(limit)s MB are not accepted.")
            % {"file": name, "size": round(file.size / 1024 / 1024, 1), "limit": limit}
        )
    if not file.size:
        raise LinkageUploadError(_("%(file)s: the file is empty.") % {"file": name})
    return name


def _store(file: UploadedFile, target: Path) -> str:
    """Write the upload to `target`; its SHA-256."""
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        for chunk in file.chunks():
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


@transaction.atomic
def linkage_run_start(
    *,
    actor: User,
    kind: str,
    files: Sequence[UploadedFile],
    model: str = "",
    threshold: float = engine.DEFAULT_THRESHOLD,
) -> LinkageRun:
    """Keep the uploaded files and queue the run: one file to deduplicate, two (left, right)
    to link. `model` is a saved model, NAME or NAME:VERSION; without it a model is trained
    on the input. Refused at once: a wrong number of files, a file that is not CSV or
    Parquet, empty or over MIRADOR_LINKAGE_MAX_UPLOAD_MB, an unknown model, a threshold
    that is not a probability."""
    from mirador.linkage.tasks import linkage_run_task

    if not permissions.can_run_linkage(actor):
        raise PermissionDeniedError()
    if kind not in (RunKind.DEDUPE, RunKind.PAIRS):
        raise LinkageUploadError(_("The kind of run is dedupe or pairs."))
    expected = 1 if kind == RunKind.DEDUPE else 2
    if len(files) != expected:
        raise LinkageUploadError(
            _("A dedupe run takes one file, a pairs run two (left and right); %(count)d given.")
            % {"count": len(files)}
        )
    if not 0 < threshold <= 1:
        raise LinkageUploadError(_("The threshold must be a probability above 0 and at most 1."))
    names = [_check_upload(file) for file in files]
    model_name, model_version = "", None
    if model:
        name, _sep, version = model.partition(":")
        if version and not version.isdigit():
            raise LinkageUploadError(_("The model is given as NAME or NAME:VERSION (a number)."))
        try:
            saved = linkage_model_get(name=name, version=int(version) if version else None)
        except NotFoundError as error:
            raise LinkageUploadError(error.message) from None
        model_name, model_version = saved.name, saved.version
    run = LinkageRun(
        kind=kind,
        threshold=threshold,
        model_name=model_name,
        model_version=model_version,
        created_by=actor,
        modified_by=actor,
    )
    run_store(
        run,
        files,
        names,
        actor=actor,
        details={"kind": kind, "files": names, "model": model_name, "version": model_version},
    )
    # The task's row is written in this transaction: the run and its task exist together.
    linkage_run_task.enqueue(str(run.pk))
    return run


def run_store(
    run: LinkageRun,
    files: Sequence[UploadedFile],
    names: Sequence[str],
    *,
    actor: User,
    details: dict[str, Any],
) -> None:
    """Save a new run with its input files (their names, sizes and SHA-256 in `run.inputs`),
    audited with `details`: checked first, and nothing left on disk if saving fails."""
    run.inputs = [
        {"name": name, "size": file.size} for name, file in zip(names, files, strict=True)
    ]
    try:
        run.full_clean()
    except ValidationError as error:
        raise ValidationFailedError(details=dict(error.message_dict)) from error
    directory = run_directory(run)
    try:
        for index, file in enumerate(files):
            run.inputs[index]["sha256"] = _store(file, _input_path(run, index))
        run.save(force_insert=True)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="linkage.LinkageRun",
        object_id=run.pk,
        details=details,
    )


def linkage_run_result(*, actor: User, run: LinkageRun, name: str) -> Path:
    """The path of a result of a finished run (pairs or clusters, CSV or Parquet; the
    encodings of an encode run), its download audited; 409 while the run is not done."""
    if not permissions.can_run_linkage(actor):
        raise PermissionDeniedError()
    if name not in run_results(run):
        raise NotFoundError()
    if run.status != RunStatus.DONE:
        raise RunNotDoneError()
    path = run_directory(run) / name
    if not path.is_file():
        raise NotFoundError()
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="linkage.LinkageRun",
        object_id=run.pk,
        details={"file": name, "inputs": [item["name"] for item in run.inputs]},
    )
    return path


class RunNotDoneError(ApplicationError):
    code = "run_not_done"
    http_status = 409
    default_message = gettext_lazy("The run has not finished; its results are not there yet.")


# --- The task's work -------------------------------------------------------------------------


def _update(run: LinkageRun, **fields: Any) -> None:
    for key, value in fields.items():
        setattr(run, key, value)
    run.save(update_fields=[*fields, "modified_at"])


class _RunFailed(Exception):
    pass


def linkage_run_execute(*, run_id: str) -> str:
    """The task's work: run the engine on the stored files, write the results, keep the
    counts. Any failure ends the run as failed with a message; returns the run's status."""
    run = LinkageRun.objects.select_related("created_by").filter(pk=run_id).first()
    if run is None or run.status != RunStatus.QUEUED:
        return run.status if run is not None else "missing"
    owner = run.created_by
    language = owner.preferred_language if owner is not None else settings.LANGUAGE_CODE
    with translation.override(language), request_context(ip_address=None, channel="task"):
        _update(
            run, status=RunStatus.RUNNING, stage="reading", progress=0.0, started_at=timezone.now()
        )
        try:
            if owner is None or not permissions.can_run_linkage(owner):
                raise _RunFailed(str(PermissionDeniedError.default_message))
            _execute(run)
        except _RunFailed as failure:
            _update(run, status=RunStatus.FAILED, message=str(failure), finished_at=timezone.now())
        except Exception:
            logger.exception("linkage run %s failed", run.pk)
            _update(
                run,
                status=RunStatus.FAILED,
                message=_("The run failed unexpectedly; no results were written."),
                finished_at=timezone.now(),
            )
        finally:
            _inputs_remove(run)
    return run.status


def _inputs_remove(run: LinkageRun) -> None:
    """The uploaded files, once their run has ended (done or failed): records with names and
    dates of birth stay on the server no longer than the run needs them (an encode run's
    whole point is that they do not travel; they need not stay here either). The run keeps
    each file's name and SHA-256, so that what was linked can still be told."""
    shutil.rmtree(run_directory(run) / "inputs", ignore_errors=True)


def _execute(run: LinkageRun) -> None:
    if run.kind in (RunKind.ENCODE, RunKind.MATCH_ENCODED):
        from mirador.linkage.private_runs import private_run_execute

        private_run_execute(run)
        return

    from mirador.linkage.management.commands.link import Command

    # The command's own reading and messages, so that the API says what `mirador link` says.
    command = Command(stdout=StringIO(), stderr=StringIO())
    paths = [_input_path(run, index) for index in range(len(run.inputs))]

    def shown(message: str) -> str:
        for path in paths:
            message = message.replace(str(path), path.name)
        return message

    model: dict[str, Any] | None = None
    extra_columns: list[str] = []
    if run.model_name:
        try:
            model = linkage_model_get(name=run.model_name, version=run.model_version).settings
        except ApplicationError as error:
            raise _RunFailed(error.message) from None
        extra_columns = [
            c["output_column_name"].removeprefix("x_")
            for c in model["comparisons"]
            if c["output_column_name"].startswith("x_")
        ]
    if run.kind == RunKind.REGISTRY:
        outcome = _registry(run, model)
    else:
        outcome = _files(run, command, paths, model, extra_columns, shown)
    _update(run, stage="writing", progress=0.9)
    directory = run_directory(run)
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in (("pairs", outcome.pairs), ("clusters", outcome.clusters)):
        frame.to_csv(directory / f"{name}.csv", index=False)
        frame.to_parquet(directory / f"{name}.parquet", index=False)
    clusters = outcome.clusters
    linked = clusters[clusters["cluster_size"] > 1]
    _update(
        run,
        status=RunStatus.DONE,
        stage="done",
        progress=1.0,
        pairs=len(outcome.pairs),
        clusters=int(linked["cluster_id"].nunique()),
        finished_at=timezone.now(),
    )


def _progress(run: LinkageRun) -> Any:
    def progress(message: str) -> None:
        for stage, marker, fraction in STAGES:
            if marker in message and fraction > run.progress:
                _update(run, stage=stage, progress=fraction)

    return progress


def _registry(run: LinkageRun, model: dict[str, Any] | None) -> engine.LinkageOutcome:
    """A registry run: its records read and its pairs queued for review (review.py)."""
    from mirador.linkage.review import registry_run_execute

    _update(run, stage="preparing", progress=0.1)
    try:
        outcome = registry_run_execute(run=run, model=model, progress=_progress(run))
    except engine.TooManyPairsError as error:
        from mirador.linkage.management.commands.link import too_many_pairs_message

        raise _RunFailed(too_many_pairs_message(error)) from None
    except engine.InputError:
        raise _RunFailed(_("The registry holds fewer than two records to compare.")) from None
    _update(run, rows_read=outcome.records)
    return outcome


def _files(
    run: LinkageRun,
    command: Any,
    paths: list[Path],
    model: dict[str, Any] | None,
    extra_columns: list[str],
    shown: Any,
) -> engine.LinkageOutcome:
    from django.core.management.base import CommandError

    from mirador.linkage.management.commands.link import too_many_pairs_message

    frames: list[pd.DataFrame] = []
    rows_read = skipped = 0
    try:
        for index, path in enumerate(paths):
            raw, blank = command._read(path)
            source = path.name
            if len(paths) == 2 and paths[0].name == paths[1].name:
                source = ("left", "right")[index]
            frames.append(command._prepare(path, raw, extra_columns=extra_columns, source=source))
            rows_read += len(raw) + blank
            skipped += blank
    except CommandError as error:
        raise _RunFailed(shown(str(error))) from None
    _update(
        run,
        rows_read=rows_read,
        rows_skipped=skipped,
        skipped_reasons={"blank lines": skipped} if skipped else {},
        stage="preparing",
        progress=0.1,
    )

    options: dict[str, Any] = {
        "model": model,
        "threshold": run.threshold,
        "extra_columns": extra_columns,
        "progress": _progress(run),
        "prepared": True,
    }
    try:
        if run.kind == RunKind.DEDUPE:
            outcome = engine.dedupe(frames[0], **options)
        else:
            outcome = engine.link(frames[0], frames[1], **options)
    except engine.TooManyPairsError as error:
        raise _RunFailed(too_many_pairs_message(error)) from None
    except engine.InputError as error:
        raise _RunFailed(shown(command._input_message(paths[0], error))) from None
    return outcome
