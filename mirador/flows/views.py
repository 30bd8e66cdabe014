"""Import pages: upload a file, follow its validation, see the preview and the report, store.

Only users the permission rule lets import figures see them (403 for others); an upload of
someone else answers 404, like one that does not exist.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mirador.accounts import permissions
from mirador.accounts.models import User
from mirador.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from mirador.flows.forms import UploadForm
from mirador.flows.uploads import (
    UploadJob,
    max_upload_bytes,
    state_label,
    upload_create,
    upload_get,
    upload_store,
    uploads_list,
)

POLL_SECONDS = 2


def _importer(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not permissions.can_import_figures(user):
        raise PermissionDenied
    return user


def _job(user: User, job_id: uuid.UUID) -> UploadJob:
    try:
        return upload_get(actor=user, job_id=str(job_id))
    except NotFoundError:
        raise Http404 from None
    except PermissionDeniedError:
        raise PermissionDenied from None


@login_required
@require_http_methods(["GET", "POST"])
def upload_new(request: HttpRequest) -> HttpResponse:
    user = _importer(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = upload_create(
                actor=user,
                format_code=form.cleaned_data["format"],
                file=form.cleaned_data["file"],
                mapping_file=form.cleaned_data.get("mapping"),
                replace=form.cleaned_data.get("replace", False),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            return redirect("flows:upload_detail", job_id=job.id)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "flows/upload_new.html",
        {
            "form": form,
            "max_mb": max_upload_bytes() // (1024 * 1024),
            "uploads": [(job, state_label(job.state)) for job in uploads_list(actor=user)],
        },
        status=status,
    )


@login_required
@require_GET
def upload_detail(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """The whole page, or (for htmx's polling) only the status and preview."""
    user = _importer(request)
    job = _job(user, job_id)
    context = _detail_context(user, job)
    template = "flows/upload_detail.html"
    if getattr(request, "htmx", False):
        template = "flows/partials/upload_status.html"
    return render(request, template, context)


def _detail_context(user: User, job: UploadJob) -> dict[str, object]:
    owner = str(user.pk) == job.owner_id
    return {
        "job": job,
        "state_label": state_label(job.state),
        "poll_seconds": POLL_SECONDS,
        "may_store": job.storable and owner,
        "may_store_valid_rows": job.valid_rows_storable and owner,
        "step_label": _("storing") if job.step == "storing" else _("checking"),
    }


@login_required
@require_POST
def upload_store_view(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    user = _importer(request)
    job = _job(user, job_id)
    try:
        upload_store(
            actor=user,
            job_id=job.id,
            keep_valid=request.POST.get("keep_valid") == "1",
            # The box is on the form only when the file replaces figures; otherwise the
            # choice made at upload stands.
            replace=request.POST.get("replace") == "1" if "replace_shown" in request.POST else None,
        )
    except PermissionDeniedError:
        raise PermissionDenied from None
    except ApplicationError as error:
        context = _detail_context(user, job)
        context.update(error=error.message, may_store=False, may_store_valid_rows=False)
        return render(request, "flows/upload_detail.html", context, status=error.http_status)
    return redirect("flows:upload_detail", job_id=job.id)


@login_required
@require_GET
def upload_report_csv(request: HttpRequest, job_id: uuid.UUID) -> FileResponse:
    user = _importer(request)
    job = _job(user, job_id)
    return report_response(job)


def report_response(job: UploadJob) -> FileResponse:
    """The full report (file, sheet, row, column, value, reason) as a CSV attachment."""
    if not job.report_path.is_file():
        raise Http404
    name = f"{job.path.stem}-report.csv"
    return FileResponse(
        job.report_path.open("rb"),
        as_attachment=True,
        filename=name,
        content_type="text/csv; charset=utf-8",
    )
