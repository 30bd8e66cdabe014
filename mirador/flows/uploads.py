"""Uploads of statistical files for import: stored, validated with a preview, then stored as a
batch, each step a background task (flows.tasks) whose progress the page and the API show.

An upload is a directory `DATA_DIR/uploads/<random id>/` holding the file under its own
(sanitised) name, the mapping given with it if any, `job.json` (its state, progress, counts,
totals and first problems) and `report.csv` (every problem: file, sheet, row, column, value,
reason). Nothing reaches the statistical tables until the user asks to store a batch whose
validation found nothing wrong, or deliberately asks to store its valid rows and set the others
aside; storing is `flows.services.batch_import`. A file covering periods its source already
has figures for is stored only as a corrected revision (`replace`), which the preview
describes (how many observations, which periods, which batches).

Upload directories are removed MIRADOR_UPLOAD_RETENTION_DAYS days (default 7) after their last
change, whenever a new upload is made. A job whose worker died (checking or storing, with no
news for STALE_AFTER) is shown as failed rather than running for ever.

Validation reads the file through the same engine functions batch_import uses (so the rules
are the same), adding what batch_import does not do: progress, totals by period and by country
for the preview, and the importer's scope (a national analyst imports only figures their own
country reports).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mirador.accounts import permissions
from mirador.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from mirador.flows.engine import (
    FileInfo,
    MappingError,
    ParsedObservation,
    available_formats,
    format_mapping_path,
    format_name,
    inspect_file,
    load_mapping,
    mapping_for,
)
from mirador.flows.models import (
    OBSERVATION_DIMENSIONS,
    BatchStatus,
    Dataset,
    ImportBatch,
    PeriodType,
)
from mirador.flows.readers import count_records
from mirador.flows.records import record_writer
from mirador.flows.services import (
    CoverageKey,
    ImportOutcome,
    ImportResult,
    batch_import,
    import_rows,
    revision_plan,
    write_issues_csv,
)

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from mirador.accounts.models import User

logger = logging.getLogger(__name__)

CUSTOM_FORMAT = "custom"
FIRST_ISSUES = 50
PREVIEW_ROWS = 10
# Country dimensions, in the order the preview prefers one for its totals by country.
PREVIEW_COUNTRY_DIMENSIONS = ("citizenship", "from_country", "to_country", "reporting_country")
_PROGRESS_EVERY_SECONDS = 0.5
_MAX_MAPPING_BYTES = 256 * 1024
# A job checking or storing writes its progress at least every few seconds while it reads;
# one silent for this long lost its worker (a killed process, a restarted server).
STALE_AFTER = datetime.timedelta(minutes=30)


class UploadState:
    QUEUED = "queued"  # waiting for validation
    VALIDATING = "validating"
    VALID = "valid"
    INVALID = "invalid"
    ALREADY_IMPORTED = "already_imported"
    STORE_QUEUED = "store_queued"
    STORING = "storing"
    STORED = "stored"
    FAILED = "failed"  # the file or mapping could not be read at all, or the worker died

    RUNNING = frozenset({QUEUED, VALIDATING, STORE_QUEUED, STORING})
    # States in which a worker is at work and writes its progress as it goes.
    WORKING = frozenset({VALIDATING, STORING})


class UploadTooLargeError(ApplicationError):
    code = "upload_too_large"
    http_status = 413
    default_message = gettext_lazy("The file is too large.")


class UploadStateError(ApplicationError):
    code = "upload_state"
    http_status = 409
    default_message = gettext_lazy("The upload cannot be stored in its present state.")


@dataclass
class UploadJob:
    id: str
    owner_id: str
    format_code: str
    file_name: str
    size: int
    created_at: str
    has_mapping: bool = False
    store_when_valid: bool = False
    state: str = UploadState.QUEUED
    progress: int = 0
    message: str = ""
    updated_at: str = ""
    format_name: str = ""
    dataset: str = ""
    sha256: str = ""
    rows_read: int = 0
    rows_dropped: int = 0
    observations: int = 0
    total: int = 0
    # The dataset counts several measures of one event: `total` adds them up, so pages hide it.
    has_measures: bool = False
    issue_count: int = 0
    issues: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    totals_by_period: list[tuple[str, int]] = field(default_factory=list)
    country_dimension: str = ""
    totals_by_country: list[tuple[str, int]] = field(default_factory=list)
    batch_id: str = ""
    # Store as a corrected revision, replacing the source's current figures it covers.
    replace: bool = False
    # Store the valid rows and set the others aside (asked for after a validation).
    keep_valid: bool = False
    # What storing would replace (services.RevisionPlan.as_dict()); empty: nothing.
    revision: dict[str, Any] = field(default_factory=dict)
    # Rows with problems (set aside if the valid rows are stored), and problems of the file
    # itself, which forbid storing any row.
    rows_with_problems: int = 0
    file_problems: int = 0
    set_aside_count: int = 0
    replaced_count: int = 0
    # What the progress is of: "validation" or "storing".
    step: str = ""
    # About how many records the file has (for the progress of storing it).
    records: int = 0

    @property
    def running(self) -> bool:
        return self.state in UploadState.RUNNING

    @property
    def storable(self) -> bool:
        return self.state == UploadState.VALID

    @property
    def valid_rows_storable(self) -> bool:
        """Its validation found problems in single rows only, and rows without any: the owner
        may store those and set the others aside."""
        return (
            self.state == UploadState.INVALID
            and not self.file_problems
            and self.rows_with_problems > 0
            and self.observations > 0
        )

    @property
    def valid_rows(self) -> int:
        return max(self.rows_read - self.rows_dropped - self.rows_with_problems, 0)

    @property
    def replaces_figures(self) -> bool:
        return bool(self.revision.get("observations"))

    @property
    def directory(self) -> Path:
        return upload_root() / self.id

    @property
    def path(self) -> Path:
        return self.directory / self.file_name

    @property
    def mapping_path(self) -> Path | None:
        return self.directory / "mapping.toml" if self.has_mapping else None

    @property
    def report_path(self) -> Path:
        return self.directory / "report.csv"


# --- Storage of the upload -----------------------------------------------------------------


def upload_root() -> Path:
    return Path(settings.DATA_DIR) / "uploads"


def max_upload_bytes() -> int:
    return int(settings.MIRADOR_MAX_UPLOAD_MB) * 1024 * 1024


def upload_retention_days() -> int:
    return int(settings.MIRADOR_UPLOAD_RETENTION_DAYS)


def uploads_remove_expired(*, now: datetime.datetime | None = None) -> int:
    """Remove the upload directories whose last change is older than the retention period
    (their files, reports and previews); a job still at work is kept. Returns how many."""
    root = upload_root()
    if not root.is_dir():
        return 0
    limit = (now or timezone.now()) - datetime.timedelta(days=upload_retention_days())
    removed = 0
    for entry in root.iterdir():
        if not entry.is_dir():
            continue
        job = _read(entry.name)
        if job is not None and job.state in UploadState.WORKING and not _stale(job, now):
            continue
        changed = _last_change(entry, job)
        if changed < limit:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


def _last_change(directory: Path, job: UploadJob | None) -> datetime.datetime:
    if job is not None and job.updated_at:
        with contextlib.suppress(ValueError):
            return datetime.datetime.fromisoformat(job.updated_at)
    return datetime.datetime.fromtimestamp(directory.stat().st_mtime, tz=datetime.UTC)


def _stale(job: UploadJob, now: datetime.datetime | None = None) -> bool:
    """Checking or storing, and silent for longer than STALE_AFTER: its worker died."""
    if job.state not in UploadState.WORKING or not job.updated_at:
        return False
    try:
        updated = datetime.datetime.fromisoformat(job.updated_at)
    except ValueError:
        return False
    return (now or timezone.now()) - updated > STALE_AFTER


def format_choices() -> list[tuple[str, str]]:
    """(code, name) of the formats shipped in flows/formats/."""
    choices = []
    for code in available_formats():
        try:
            choices.append((code, format_name(code)))
        except ApplicationError:
            continue
    return choices


def _job_file(job_id: str) -> Path:
    return upload_root() / job_id / "job.json"


def _write(job: UploadJob) -> None:
    job.updated_at = timezone.now().isoformat()
    target = _job_file(job.id)
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(job)), encoding="utf-8")
    os.replace(temporary, target)


def _read(job_id: str) -> UploadJob | None:
    try:
        canonical = str(uuid.UUID(str(job_id)))
    except ValueError:
        return None
    try:
        raw = json.loads(_job_file(canonical).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    raw["totals_by_period"] = [tuple(pair) for pair in raw.get("totals_by_period", [])]
    raw["totals_by_country"] = [tuple(pair) for pair in raw.get("totals_by_country", [])]
    known = {name for name in UploadJob.__dataclass_fields__}
    job = UploadJob(**{name: value for name, value in raw.items() if name in known})
    if _stale(job):
        was_storing = job.state == UploadState.STORING
        _update(
            job,
            state=UploadState.FAILED,
            progress=100,
            message=(
                _(
                    "Storing stopped without finishing (its worker stopped): nothing was "
                    "stored. Upload the file again."
                )
                if was_storing
                else _(
                    "The check stopped without finishing (its worker stopped): nothing was "
                    "stored. Upload the file again."
                )
            ),
        )
    return job


def _update(job: UploadJob, **changes: Any) -> UploadJob:
    for name, value in changes.items():
        setattr(job, name, value)
    _write(job)
    return job


def _save_upload(source: UploadedFile, target: Path) -> None:
    with target.open("wb") as handle:
        for chunk in source.chunks():
            handle.write(chunk)


# --- Services --------------------------------------------------------------------------------


def upload_create(
    *,
    actor: User,
    format_code: str,
    file: UploadedFile,
    mapping_file: UploadedFile | None = None,
    store_when_valid: bool = False,
    replace: bool = False,
    keep_valid: bool = False,
) -> UploadJob:
    """Keep an uploaded file and queue its validation. The format is a shipped one, or
    CUSTOM_FORMAT with a TOML mapping file; a mapping that cannot be read, an unknown format
    and a file over MIRADOR_MAX_UPLOAD_MB are refused at once. With `store_when_valid`, a
    valid file is stored right after its validation (the API's dry_run=false); with
    `keep_valid` too, its valid rows are stored even if others have problems (set aside).
    `replace`: store it as a corrected revision replacing the figures it covers. Upload
    directories past their retention period are removed first."""
    from mirador.flows.tasks import validate_upload_task

    if not permissions.can_import_figures(actor):
        raise PermissionDeniedError()
    uploads_remove_expired()
    limit = max_upload_bytes()
    if file.size is not None and file.size > limit:
        raise UploadTooLargeError(
            _(
                "The file is %(size)s MB; files of more than %(limit)s MB are not accepted. "
                "Split it (by year, say) and upload the parts one by one."
            )
            % {"size": round(file.size / 1024 / 1024, 1), "limit": settings.MIRADOR_MAX_UPLOAD_MB}
        )
    if not file.size:
        raise ApplicationError(_("The file is empty."))
    custom = format_code == CUSTOM_FORMAT
    if custom and mapping_file is None:
        raise MappingError(_("Give the mapping file (TOML) of your own format."))
    if not custom:
        format_mapping_path(format_code)  # UnknownFormatError names the formats there are
    if mapping_file is not None and (mapping_file.size or 0) > _MAX_MAPPING_BYTES:
        raise MappingError(_("The mapping file is too large to be a mapping."))

    job_id = str(uuid.uuid4())
    directory = upload_root() / job_id
    directory.mkdir(parents=True, exist_ok=False)
    name = get_valid_filename(Path(file.name or "upload.csv").name)[:200] or "upload.csv"
    if name in ("job.json", "report.csv", "mapping.toml"):
        name = f"upload-{name}"
    try:
        _save_upload(file, directory / name)
        mapping = None
        if mapping_file is not None and custom:
            _save_upload(mapping_file, directory / "mapping.toml")
            mapping = load_mapping(directory / "mapping.toml")
        else:
            mapping = mapping_for(format_code, directory / name)
    except ApplicationError:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    scope = permissions.import_countries(actor)
    fixed = mapping.constants.get("reporting_country")
    if scope is not None and fixed and fixed not in scope:
        shutil.rmtree(directory, ignore_errors=True)
        raise PermissionDeniedError(
            _(
                "The format %(format)s holds figures reported by %(country)s; you may import "
                "only figures reported by %(countries)s."
            )
            % {"format": mapping.code, "country": fixed, "countries": ", ".join(sorted(scope))}
        )
    job = UploadJob(
        id=job_id,
        owner_id=str(actor.pk),
        format_code=mapping.code,
        format_name=mapping.name,
        file_name=name,
        size=file.size,
        created_at=timezone.now().isoformat(),
        has_mapping=custom,
        store_when_valid=store_when_valid,
        replace=replace,
        keep_valid=keep_valid,
    )
    _write(job)
    validate_upload_task.enqueue(job_id)
    return job


def upload_get(*, actor: User, job_id: str) -> UploadJob:
    """An upload its uploader (or an administrator) may see; NotFoundError otherwise, so that
    others' uploads cannot be told from ids that do not exist."""
    if not permissions.can_import_figures(actor):
        raise PermissionDeniedError()
    job = _read(job_id)
    if job is None or not permissions.can_see_import(actor, job.owner_id):
        raise NotFoundError()
    return job


def uploads_list(*, actor: User, limit: int = 20) -> list[UploadJob]:
    """The latest uploads `actor` may see (their own; every one for administrators)."""
    if not permissions.can_import_figures(actor):
        raise PermissionDeniedError()
    root = upload_root()
    jobs = [_read(entry.name) for entry in root.iterdir()] if root.is_dir() else []
    visible = [
        job for job in jobs if job is not None and permissions.can_see_import(actor, job.owner_id)
    ]
    return sorted(visible, key=lambda job: job.created_at, reverse=True)[:limit]


def upload_store(
    *, actor: User, job_id: str, keep_valid: bool = False, replace: bool | None = None
) -> UploadJob:
    """Queue the storing of a validated upload; refused unless its validation found nothing
    wrong, or, with `keep_valid`, problems in single rows only (UploadStateError).
    `replace` (None: as asked at upload) stores it as a corrected revision."""
    from mirador.flows.tasks import store_upload_task

    job = upload_get(actor=actor, job_id=job_id)
    if str(actor.pk) != job.owner_id:
        raise PermissionDeniedError(_("Only whoever uploaded a file stores it."))
    if keep_valid and job.valid_rows_storable:
        pass
    elif keep_valid and job.state == UploadState.INVALID:
        raise UploadStateError(
            _(
                "The valid rows of this file cannot be stored alone: some problems are of the "
                "file itself (a missing column, no header, a wrong mapping, an unreadable "
                "file), or no row is valid."
            )
        )
    elif not job.storable:
        raise UploadStateError(
            _("Only a file whose validation found no problem can be stored; this one is: %s.")
            % state_label(job.state)
        )
    _update(
        job,
        state=UploadState.STORE_QUEUED,
        progress=0,
        keep_valid=keep_valid,
        replace=job.replace if replace is None else replace,
    )
    store_upload_task.enqueue(job.id)
    return job


def state_label(state: str) -> str:
    labels = {
        UploadState.QUEUED: _("waiting to be checked"),
        UploadState.VALIDATING: _("being checked"),
        UploadState.VALID: _("valid, not stored yet"),
        UploadState.INVALID: _("not valid, nothing stored"),
        UploadState.ALREADY_IMPORTED: _("already imported, nothing stored"),
        UploadState.STORE_QUEUED: _("waiting to be stored"),
        UploadState.STORING: _("being stored"),
        UploadState.STORED: _("stored"),
        UploadState.FAILED: _("could not be read, nothing stored"),
    }
    return labels.get(state, state)


# --- The work the tasks do -------------------------------------------------------------------


def _owner(job: UploadJob) -> User | None:
    from mirador.accounts.models import User

    return User.objects.filter(pk=job.owner_id).first()


@contextlib.contextmanager
def _running(job: UploadJob, owner: User | None) -> Iterator[None]:
    """In the uploader's language; any failure ends the upload as FAILED with a message."""
    language = owner.preferred_language if owner is not None else settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            yield
        except ApplicationError as error:
            _update(job, state=UploadState.FAILED, message=error.message, progress=100)
        except Exception:
            logger.exception("upload %s failed", job.id)
            _update(
                job,
                state=UploadState.FAILED,
                progress=100,
                message=_("The upload failed unexpectedly; nothing was stored."),
            )


def upload_validate(*, job_id: str) -> str:
    """The validation task's work: read the whole file, record the preview and the report.
    Returns the upload's state."""
    job = _read(job_id)
    if job is None or job.state != UploadState.QUEUED:
        return job.state if job else "missing"
    owner = _owner(job)
    with _running(job, owner):
        _update(job, state=UploadState.VALIDATING, progress=0, step="validation")
        if owner is None or not permissions.can_import_figures(owner):
            raise PermissionDeniedError()
        _validate(job, owner)
        if job.store_when_valid and (job.storable or (job.keep_valid and job.valid_rows_storable)):
            _store(job, owner)
    return job.state


def upload_store_run(*, job_id: str) -> str:
    """The storing task's work."""
    job = _read(job_id)
    if job is None or job.state != UploadState.STORE_QUEUED:
        return job.state if job else "missing"
    owner = _owner(job)
    with _running(job, owner):
        if owner is None or not permissions.can_import_figures(owner):
            raise PermissionDeniedError()
        _store(job, owner)
    return job.state


def _validate(job: UploadJob, owner: User) -> None:
    mapping = mapping_for(job.format_code, job.path, job.mapping_path)
    info: FileInfo = inspect_file(job.path, encoding=mapping.encoding, reader=mapping.reader)
    try:
        dataset = Dataset.objects.get(code=mapping.dataset)
    except Dataset.DoesNotExist as error:
        raise MappingError(
            _("The mapping names the dataset %(code)s, which does not exist.")
            % {"code": mapping.dataset}
        ) from error
    _update(job, sha256=info.sha256, dataset=dataset.code, format_name=mapping.name)
    existing = ImportBatch.objects.filter(
        format_code=mapping.code, sha256=info.sha256, status=BatchStatus.IMPORTED
    ).first()
    if existing is not None:
        _update(
            job,
            state=UploadState.ALREADY_IMPORTED,
            progress=100,
            batch_id=str(existing.pk),
            message=_(
                "This file was already imported in this format (batch of %(date)s): "
                "nothing was stored again."
            )
            % {"date": f"{existing.started_at:%Y-%m-%d %H:%M} UTC"},
        )
        return

    result = ImportResult()
    lines = count_records(mapping, info)
    _update(job, records=lines)
    mapped = mapping.mapped_dimensions()
    country_dimension = next((d for d in PREVIEW_COUNTRY_DIMENSIONS if d in mapped), "")
    country_at = OBSERVATION_DIMENSIONS.index(country_dimension) if country_dimension else -1
    # Counts of different measures (dead, missing, survivors of an incident) are never added
    # up: with a measure dimension, the preview's totals are per measure.
    measure_at = OBSERVATION_DIMENSIONS.index("measure") if "measure" in mapped else -1
    by_period: Counter[str] = Counter()
    by_country: Counter[str] = Counter()
    preview: list[dict[str, Any]] = []
    coverage: set[CoverageKey] = set()
    total = 0
    progress = _progress_writer(job, result, lines)

    checker = record_writer(mapping, dataset, None, result, file_name=info.name)
    observations = import_rows(
        mapping,
        info,
        dataset,
        result,
        checker,
        reporting_countries=permissions.import_countries(owner),
        coverage=coverage,
    )
    for observation in observations:
        total += observation.value
        measure = f" · {observation.coordinates[measure_at]}" if measure_at >= 0 else ""
        by_period[observation.period.isoformat()[:7] + measure] += observation.value
        if country_at >= 0:
            by_country[observation.coordinates[country_at] + measure] += observation.value
        if len(preview) < PREVIEW_ROWS:
            preview.append(_preview_row(observation))
        progress(result.rows_read)
    write_issues_csv(result.issues, job.report_path)
    plan = revision_plan(
        dataset=dataset,
        source=mapping.source or mapping.code,
        coverage=coverage,
        period_type=PeriodType.YEAR if mapping.period_rule == "calendar-year" else PeriodType.MONTH,
    )
    _update(
        job,
        state=UploadState.INVALID if result.issue_count else UploadState.VALID,
        progress=100,
        rows_read=result.rows_read,
        rows_dropped=result.rows_dropped,
        observations=result.observations,
        total=total,
        has_measures=measure_at >= 0,
        issue_count=result.issue_count,
        issues=[issue.as_dict() for issue in result.issues[:FIRST_ISSUES]],
        preview=preview,
        totals_by_period=sorted(by_period.items()),
        country_dimension=country_dimension,
        totals_by_country=by_country.most_common(),
        revision=plan.as_dict() if plan.replaces_anything else {},
        rows_with_problems=len(result.rows_set_aside),
        file_problems=result.file_problems,
    )


def _progress_writer(job: UploadJob, result: ImportResult, lines: int) -> Callable[[int], None]:
    """progress(rows_read): written to the job at most every _PROGRESS_EVERY_SECONDS, so that
    the page and the API follow a long step."""
    last_write = time.monotonic()

    def progress(rows_read: int) -> None:
        nonlocal last_write
        if time.monotonic() - last_write <= _PROGRESS_EVERY_SECONDS:
            return
        last_write = time.monotonic()
        _update(
            job,
            progress=min(99, rows_read * 100 // lines),
            rows_read=rows_read,
            observations=result.observations,
            issue_count=result.issue_count,
        )

    return progress


def _preview_row(observation: ParsedObservation) -> dict[str, Any]:
    return {
        "row": observation.row,
        "period": observation.period.isoformat()[:7],
        "coordinates": {
            name: code
            for name, code in zip(OBSERVATION_DIMENSIONS, observation.coordinates, strict=True)
            if code
        },
        "value": observation.value,
    }


def _store(job: UploadJob, owner: User) -> None:
    _update(job, state=UploadState.STORING, progress=0, step="storing")
    lines = max(job.records, 1)
    last_write = time.monotonic()

    def progress(rows_read: int) -> None:
        nonlocal last_write
        if time.monotonic() - last_write <= _PROGRESS_EVERY_SECONDS:
            return
        last_write = time.monotonic()
        _update(job, progress=min(99, rows_read * 100 // lines))

    report = batch_import(
        actor=owner,
        format_code=job.format_code,
        path=job.path,
        mapping_path=job.mapping_path,
        replace=job.replace,
        keep_valid=job.keep_valid,
        progress=progress,
    )
    batch_id = str(report.batch.pk) if report.batch else ""
    if report.outcome == ImportOutcome.IMPORTED:
        if report.issues:  # the rows set aside, with their reasons
            write_issues_csv(report.issues, job.report_path)
        _update(
            job,
            state=UploadState.STORED,
            progress=100,
            batch_id=batch_id,
            observations=report.result.observations,
            set_aside_count=report.set_aside_count,
            replaced_count=report.batch.replaced_count if report.batch else 0,
            message=report.summary(),
        )
    elif report.outcome == ImportOutcome.ALREADY_IMPORTED:
        _update(
            job,
            state=UploadState.ALREADY_IMPORTED,
            progress=100,
            batch_id=batch_id,
            message=report.summary(),
        )
    elif report.outcome == ImportOutcome.REVISION_REFUSED:
        # Other figures of the source were stored since the check: say which, and let the
        # owner store it as a revision.
        _update(
            job,
            state=UploadState.VALID if not report.issues else UploadState.INVALID,
            progress=100,
            revision=report.revision.as_dict(),
            message=report.summary(),
        )
    else:
        write_issues_csv(report.issues, job.report_path)
        _update(
            job,
            state=UploadState.INVALID,
            progress=100,
            batch_id=batch_id,
            issue_count=report.result.issue_count,
            issues=[issue.as_dict() for issue in report.issues[:FIRST_ISSUES]],
            rows_with_problems=report.set_aside_count,
            file_problems=report.result.file_problems,
            message=report.summary(),
        )
