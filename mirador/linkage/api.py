"""API of record linkage, mounted at /api/v1/linkage/: start a run on uploaded files (202, it
runs in the background), follow it, download its pairs and clusters; list the saved models.
Administrators only (accounts.permissions.can_run_linkage)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from mirador.accounts import permissions
from mirador.accounts.auth import request_user
from mirador.core.errors import PermissionDeniedError
from mirador.linkage import engine
from mirador.linkage.models import LinkageModel, LinkageRun, RunStatus
from mirador.linkage.runs import RESULTS, linkage_run_result, linkage_run_start
from mirador.linkage.schemas import LinkageModelOut, RunOut
from mirador.linkage.selectors import linkage_models, linkage_run_get, linkage_runs_of

router = Router(tags=["linkage"])

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


def run_out(run: LinkageRun) -> dict[str, Any]:
    results = {}
    if run.status == RunStatus.DONE:
        results = {
            name: reverse("api:linkage_run_result", kwargs={"run_id": run.pk, "name": name})
            for name in RESULTS
        }
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "stage": run.stage,
        "progress": run.progress,
        "inputs": run.inputs,
        "model_name": run.model_name,
        "model_version": run.model_version,
        "threshold": run.threshold,
        "rows_read": run.rows_read,
        "rows_skipped": run.rows_skipped,
        "skipped_reasons": run.skipped_reasons,
        "pairs": run.pairs,
        "clusters": run.clusters,
        "message": run.message,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "results": results,
    }


@router.post("/runs", response={202: RunOut}, summary="Start a linkage run")
def run_create(
    request: HttpRequest,
    kind: Form[str],
    file: File[UploadedFile | None] = None,
    right: File[UploadedFile | None] = None,
    model: Form[str] = "",
    threshold: Form[float] = engine.DEFAULT_THRESHOLD,
) -> Status[dict[str, Any]]:
    """Multipart: `kind` (dedupe or pairs), `file` (for pairs, the left file) and, for pairs,
    `right`; CSV or Parquet with the columns of `mirador link` (docs/linkage.md). Optional:
    `model` (a saved model, NAME or NAME:VERSION; without it one is trained on the input)
    and `threshold` (match probability of the pairs kept). Answers 202 at once; follow the
    run at GET /runs/{id}."""
    files = [upload for upload in (file, right) if upload is not None]
    run = linkage_run_start(
        actor=request_user(request), kind=kind, files=files, model=model, threshold=threshold
    )
    return Status(202, run_out(run))


@router.get("/runs", response=list[RunOut], summary="Your linkage runs")
@paginate(LimitOffsetPagination)
def run_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [run_out(run) for run in linkage_runs_of(actor=request_user(request))]


@router.get("/runs/{run_id}", response=RunOut, summary="Follow a linkage run")
def run_get(request: HttpRequest, run_id: uuid.UUID) -> dict[str, Any]:
    return run_out(linkage_run_get(actor=request_user(request), run_id=run_id))


@router.get(
    "/runs/{run_id}/{name}",
    url_name="linkage_run_result",
    summary="A result of a finished run: pairs.csv, pairs.parquet, clusters.csv, clusters.parquet",
)
def run_result(request: HttpRequest, run_id: uuid.UUID, name: str) -> FileResponse:
    """Pairs carry the match probability and the match weight of each comparison (the
    reasons); clusters give each record its cluster. 409 while the run has not finished."""
    user = request_user(request)
    path = linkage_run_result(actor=user, run=linkage_run_get(actor=user, run_id=run_id), name=name)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"linkage-{run_id}-{name}",
        content_type=CONTENT_TYPES[path.suffix.removeprefix(".")],
    )


@router.get("/models", response=list[LinkageModelOut], summary="Saved linkage models")
def model_list(request: HttpRequest) -> list[LinkageModel]:
    """Name, version, when it was saved, what it was trained on and how it scored."""
    if not permissions.can_run_linkage(request_user(request)):
        raise PermissionDeniedError()
    return list(linkage_models())
