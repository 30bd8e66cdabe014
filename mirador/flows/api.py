"""Imports endpoints: upload a file to be checked (and stored), follow the job, read its report;
roll an imported batch back.

Every job runs in the background: POST answers 202 with the job's id at once; GET follows it.
Who may import, and which countries' figures, is decided by accounts.permissions.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from mirador.accounts import permissions
from mirador.accounts.auth import request_user
from mirador.core.errors import NotFoundError, PermissionDeniedError
from mirador.flows.models import ImportBatch
from mirador.flows.schemas import ImportJobOut, RollbackOut
from mirador.flows.services import batch_rollback, may_roll_back, write_issues
from mirador.flows.uploads import UploadJob, upload_create, upload_get, upload_store
from mirador.flows.views import report_response

router = Router(tags=["imports"])


def job_out(job: UploadJob) -> dict[str, object]:
    return {
        "id": job.id,
        "status": job.state,
        "finished": not job.running,
        "progress": job.progress,
        "format": job.format_code,
        "file_name": job.file_name,
        "size": job.size,
        "dry_run": not job.store_when_valid,
        "message": job.message,
        "rows_read": job.rows_read,
        "rows_dropped": job.rows_dropped,
        "observations": job.observations,
        "total": job.total,
        "issue_count": job.issue_count,
        "first_issues": job.issues[:20],
        "batch_id": job.batch_id,
        "report_url": reverse("api:import_report", kwargs={"job_id": job.id}),
        "step": job.step,
        "replace": job.replace,
        "keep_valid": job.keep_valid,
        "revision": job.revision or None,
        "rows_with_problems": job.rows_with_problems,
        "file_problems": job.file_problems,
        "valid_rows_storable": job.valid_rows_storable,
        "set_aside_count": job.set_aside_count,
        "replaced_count": job.replaced_count,
    }


@router.post("", response={202: ImportJobOut}, summary="Upload a file to import")
def import_create(
    request: HttpRequest,
    file: File[UploadedFile],
    format: Form[str],  # noqa: A002 (the API's field name)
    mapping: File[UploadedFile | None] = None,
    dry_run: Form[bool] = False,
    replace: Form[bool] = False,
    keep_valid: Form[bool] = False,
) -> Status[dict[str, object]]:
    """Multipart: `file`, `format` (a format code, or `custom` with a TOML `mapping` file),
    `dry_run`, `replace`, `keep_valid`. The file is checked in the background; unless
    `dry_run` is true, it is then stored if, and only if, the whole file is valid, or, with
    `keep_valid`, its valid rows are stored and the rows with problems set aside (listed in
    the report). A file covering periods its source already has figures for is refused unless
    `replace` is true: it is then a corrected revision replacing them (kept in history)."""
    user = request_user(request)
    job = upload_create(
        actor=user,
        format_code=format,
        file=file,
        mapping_file=mapping,
        store_when_valid=not dry_run,
        replace=replace,
        keep_valid=keep_valid,
    )
    return Status(202, job_out(job))


@router.get("/{job_id}", response=ImportJobOut, summary="Follow an import")
def import_get(request: HttpRequest, job_id: uuid.UUID) -> dict[str, object]:
    return job_out(upload_get(actor=request_user(request), job_id=str(job_id)))


@router.post("/{job_id}/store", response={202: ImportJobOut}, summary="Store a checked file")
def import_store(
    request: HttpRequest,
    job_id: uuid.UUID,
    keep_valid: Form[bool] = False,
    replace: Form[bool | None] = None,
) -> Status[dict[str, object]]:
    """Store a file whose dry run found nothing wrong, or, with the form field `keep_valid`,
    its valid rows when the problems are in single rows (409 otherwise); `replace` stores it
    as a corrected revision (default: as asked at upload)."""
    job = upload_store(
        actor=request_user(request),
        job_id=str(job_id),
        keep_valid=keep_valid,
        replace=replace,
    )
    return Status(202, job_out(job))


@router.post(
    "/batches/{batch_id}/rollback", response=RollbackOut, summary="Roll an imported batch back"
)
def batch_rollback_endpoint(request: HttpRequest, batch_id: uuid.UUID) -> dict[str, object]:
    """The batch's figures leave the current ones (kept in history); those it had replaced as
    a corrected revision become current again, unless a later revision replaced them too.
    For administrators and regional analysts, and national analysts for batches of their own
    country's figures (403 otherwise); 409 for a batch that is not imported."""
    user = request_user(request)
    if not permissions.can_import_figures(user):
        raise PermissionDeniedError()
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFoundError()
    removed = batch_rollback(actor=user, batch=batch)
    batch.refresh_from_db()
    return {
        "batch_id": str(batch.pk),
        "status": batch.status,
        "file_name": batch.file_name,
        "observations_removed": removed,
        "rolled_back_at": batch.rolled_back_at,
    }


@router.get(
    "/{job_id}/report.csv",
    url_name="import_report",
    summary="The full validation report (CSV)",
)
def import_report(request: HttpRequest, job_id: uuid.UUID) -> FileResponse:
    """Columns: file, sheet, row, column, value, reason."""
    return report_response(upload_get(actor=request_user(request), job_id=str(job_id)))


@router.get(
    "/batches/{batch_id}/report.csv",
    url_name="batch_report",
    summary="The problems of a stored batch: its rows set aside (CSV)",
)
def batch_report(request: HttpRequest, batch_id: uuid.UUID) -> HttpResponse:
    """Columns: file, sheet, row, column, value, reason: the rows a batch stored with
    keep_valid set aside, or why a failed batch stored nothing (the first 1 000 problems),
    for as long as the batch exists (an upload's own report goes with its directory)."""
    user = request_user(request)
    if not permissions.can_import_figures(user):
        raise PermissionDeniedError()
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None or not may_roll_back(user, batch):
        raise NotFoundError()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"{Path(batch.file_name).stem}-report.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    write_issues(batch.error_report, response)
    return response
