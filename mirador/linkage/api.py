"""API of record linkage, mounted at /api/v1/linkage/: start a run on uploaded files or on a
country's registry (202, it runs in the background), or a private-linkage run (encode with the
server's key, match two encoded files), follow it, download its pairs and clusters or its
encodings; list the saved models (administrators only, accounts.permissions.can_run_linkage).
The review queue (the registry's officials, on pairs whose records they may read),
missing-person reports, unidentified persons and match alerts (tracing roles)."""

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
from mirador.core.errors import PermissionDeniedError, ValidationFailedError
from mirador.linkage import engine, missing, privacy, review
from mirador.linkage.models import (
    LinkageModel,
    LinkageRun,
    MatchAlert,
    MissingPersonReport,
    ReviewStatus,
    RunStatus,
    UnidentifiedPerson,
)
from mirador.linkage.private_runs import private_run_start
from mirador.linkage.runs import linkage_run_result, linkage_run_start, run_results
from mirador.linkage.schemas import (
    DecisionIn,
    LinkageModelOut,
    MatchAlertOut,
    MissingReportIn,
    MissingReportOut,
    PairOut,
    RecordOut,
    RegistryRunIn,
    ReopenIn,
    RunOut,
    StatusIn,
    UnidentifiedIn,
    UnidentifiedOut,
)
from mirador.linkage.selectors import linkage_models, linkage_run_get, linkage_runs_of
from mirador.people.selectors import person_get
from mirador.people.services import DocumentData

router = Router(tags=["linkage"])

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


def run_out(run: LinkageRun) -> dict[str, Any]:
    results = {}
    if run.status == RunStatus.DONE:
        results = {
            name: reverse("api:linkage_run_result", kwargs={"run_id": run.pk, "name": name})
            for name in run_results(run)
        }
    return {
        "id": run.pk,
        "kind": run.kind,
        "country": run.country_id,
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
        "summary": run.summary,
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


@router.post("/private-runs", response={202: RunOut}, summary="Start a private-linkage run")
def private_run_create(
    request: HttpRequest,
    kind: Form[str],
    file: File[UploadedFile | None] = None,
    right: File[UploadedFile | None] = None,
    threshold: Form[float] = privacy.DEFAULT_THRESHOLD,
) -> Status[dict[str, Any]]:
    """Multipart: `kind` encode (one `file` of records, the columns of `mirador link`, encoded
    with the agreement's key this server holds; 400 if it holds none) or match_encoded (`file`
    and `right`, two files of encodings; 400 if their keys or schemas differ; optional
    `threshold`). The key is never sent. Answers 202 at once; follow the run at GET
    /runs/{id}; its results are encoded.parquet (encode) or pairs and clusters (match)."""
    files = [upload for upload in (file, right) if upload is not None]
    run = private_run_start(
        actor=request_user(request), kind=kind, files=files, threshold=threshold
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
    summary=(
        "A result of a finished run: pairs.csv, pairs.parquet, clusters.csv, clusters.parquet; "
        "encoded.parquet for an encode run"
    ),
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


# --- Registry runs and the review queue -------------------------------------------------------


@router.post("/registry-runs", response={202: RunOut}, summary="Deduplicate a country's registry")
def registry_run_create(request: HttpRequest, payload: RegistryRunIn) -> Status[dict[str, Any]]:
    """The records of the country's registry whose consent to tracing and matching is in
    force are deduplicated in the background; the pairs go to the review queue, where the
    country's officials decide them. Administrators only; results hold record ids, no names."""
    run = review.registry_run_start(
        actor=request_user(request),
        country=payload.country,
        model=payload.model,
        threshold=payload.threshold,
    )
    return Status(202, run_out(run))


def _record_out(view: review.RecordView) -> dict[str, Any]:
    return {
        "key": view.ref.key,
        "kind": view.ref.kind,
        "kind_label": view.kind_label,
        "name": view.name,
        "birth_date": view.birth_date,
        "sex": view.sex,
        "documents": view.documents,
        "registry": view.registry,
        "details": view.details,
        "url": view.url,
    }


def pair_out(view: review.PairView) -> dict[str, Any]:
    pair = view.pair
    return {
        "id": pair.pk,
        "status": pair.status,
        "source": pair.source,
        "match_probability": pair.match_probability,
        "match_weight": pair.match_weight,
        "model_name": pair.model_name,
        "model_version": pair.model_version,
        "report_id": pair.report_id,
        "left": _record_out(view.left),
        "right": _record_out(view.right),
        "reasons": view.reasons,
        "decided_at": pair.decided_at,
        "note": pair.note,
        "created_at": pair.created_at,
    }


@router.get("/review/pairs", response=list[PairOut], summary="The review queue")
def review_pair_list(
    request: HttpRequest,
    status: str = ReviewStatus.PENDING,
    source: str = "",
    limit: int = review.QUEUE_PAGE,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Pairs whose two records you may read, most probable first (`status` pending, accepted
    or rejected; `source` linkage-run, repeat-return or missing-person), with the match
    weight of each comparison. Each record shown is audited as read."""
    page = review.review_queue(
        user=request_user(request), status=status, source=source or None, limit=limit, offset=offset
    )
    return [pair_out(view) for view in page.pairs]


@router.get("/review/pairs/{pair_id}", response=PairOut, summary="One pair of the queue")
def review_pair_detail(request: HttpRequest, pair_id: uuid.UUID) -> dict[str, Any]:
    user = request_user(request)
    pair = review.review_pair_get(user=user, pair_id=pair_id)
    return pair_out(review.review_pair_view(user=user, pair=pair))


@router.post("/review/pairs/{pair_id}/decision", response=PairOut, summary="Accept or reject")
def review_pair_decision(
    request: HttpRequest, pair_id: uuid.UUID, payload: DecisionIn
) -> dict[str, Any]:
    """`accept`: the two records are one person (they join one cluster); `reject`: they are
    not. 409 when the pair is already decided, or when the decision would make one person of
    records a reviewer said are different (reopen that decision first)."""
    user = request_user(request)
    pair = review.review_pair_get(user=user, pair_id=pair_id)
    pair = review.review_pair_decide(
        actor=user, pair=pair, decision=payload.decision, note=payload.note
    )
    return pair_out(review.review_pair_view(user=user, pair=pair))


@router.post("/review/pairs/{pair_id}/reopen", response=PairOut, summary="Take a decision back")
def review_pair_reopen(
    request: HttpRequest, pair_id: uuid.UUID, payload: ReopenIn
) -> dict[str, Any]:
    user = request_user(request)
    pair = review.review_pair_get(user=user, pair_id=pair_id)
    pair = review.review_pair_reopen(actor=user, pair=pair, note=payload.note)
    return pair_out(review.review_pair_view(user=user, pair=pair))


@router.get(
    "/records/{record_key}/same-person",
    response=list[RecordOut],
    summary="Records confirmed to be the same person",
)
def same_person(request: HttpRequest, record_key: str) -> list[dict[str, Any]]:
    """`record_key` is p:<person id> or u:<unidentified person id>. The other records of its
    cluster that you may read; 404 for a record you may not read."""
    user = request_user(request)
    try:
        ref = review.RecordRef.parse(record_key)
    except ValueError:
        raise ValidationFailedError(
            details={"fields": {"record_key": ["p:<uuid> or u:<uuid>"]}}
        ) from None
    if ref.kind == review.PERSON_KIND:
        record: Any = person_get(user=user, person_id=ref.id, reason="same-person links")
    else:
        record = missing.unidentified_get(user=user, record_id=ref.id)
    return [_record_out(view) for view in review.same_person_links(user=user, record=record)]


# --- Missing persons --------------------------------------------------------------------------


def report_out(report: MissingPersonReport) -> dict[str, Any]:
    person = report.person
    return {
        "id": report.pk,
        "person_id": person.pk,
        "status": report.status,
        "name": person.full_name,
        "birth_date": person.birth_date_display,
        "sex": person.sex,
        "reported_on": report.reported_on,
        "reporter_name": report.reporter_name,
        "reporter_relationship": report.reporter_relationship,
        "reporter_contact": report.reporter_contact,
        "consulate": str(report.consulate) if report.consulate else "",
        "last_seen_on": report.last_seen_on,
        "last_seen_place": report.last_seen_place,
        "last_seen_country": report.last_seen_country_id,
        "route": report.route,
        "circumstances": report.circumstances,
        "responsible": report.responsible.get_username() if report.responsible else "",
    }


@router.post(
    "/missing-reports", response={201: MissingReportOut}, summary="File a missing-person report"
)
def missing_report_create(request: HttpRequest, payload: MissingReportIn) -> Status[dict[str, Any]]:
    """A family's report, received through a consulate. The missing person is registered in
    your country's registry, seen only by tracing roles; matching against returns and
    unidentified persons starts in the background. 422 names each wrong field."""
    user = request_user(request)
    data = payload.dict()
    documents = [DocumentData(**document) for document in data.pop("documents")]
    report = missing.missing_report_file(actor=user, documents=documents, **data)
    if not permissions.can_view_person(user, report.person):
        # A child's report is for protection officers: the one who filed it learns its id.
        return Status(201, {**report_out(report), "name": "", "birth_date": ""})
    return Status(201, report_out(missing.missing_report_get(user=user, report_id=report.pk)))


@router.get("/missing-reports", response=list[MissingReportOut], summary="Missing-person reports")
def missing_report_list(request: HttpRequest, status: str = "") -> list[dict[str, Any]]:
    reports = missing.missing_reports_list(user=request_user(request), status=status or None)
    return [report_out(report) for report in reports]


@router.get(
    "/missing-reports/{report_id}", response=MissingReportOut, summary="A missing-person report"
)
def missing_report_detail(request: HttpRequest, report_id: uuid.UUID) -> dict[str, Any]:
    return report_out(missing.missing_report_get(user=request_user(request), report_id=report_id))


@router.post(
    "/missing-reports/{report_id}/status", response=MissingReportOut, summary="Mark found or closed"
)
def missing_report_status(
    request: HttpRequest, report_id: uuid.UUID, payload: StatusIn
) -> dict[str, Any]:
    user = request_user(request)
    report = missing.missing_report_get(user=user, report_id=report_id)
    missing.missing_report_status_set(actor=user, report=report, status=payload.status)
    return report_out(missing.missing_report_get(user=user, report_id=report_id))


@router.post(
    "/unidentified", response={201: UnidentifiedOut}, summary="Record an unidentified person"
)
def unidentified_create(
    request: HttpRequest, payload: UnidentifiedIn
) -> Status[UnidentifiedPerson]:
    """Someone found or held whose identity is not known, with whatever is known; matched
    against the open missing-person reports in the background."""
    record = missing.unidentified_record(actor=request_user(request), **payload.dict())
    return Status(201, record)


@router.get("/unidentified", response=list[UnidentifiedOut], summary="Unidentified persons")
def unidentified_list(request: HttpRequest) -> list[UnidentifiedPerson]:
    return missing.unidentified_list(user=request_user(request))


@router.get("/unidentified/{record_id}", response=UnidentifiedOut, summary="An unidentified person")
def unidentified_detail(request: HttpRequest, record_id: uuid.UUID) -> UnidentifiedPerson:
    return missing.unidentified_get(user=request_user(request), record_id=record_id)


@router.get("/alerts", response=list[MatchAlertOut], summary="Missing-person match alerts")
def match_alert_list(request: HttpRequest, status: str = "open") -> list[MatchAlert]:
    """Matches found for the reports you are responsible for (and for reports whose
    responsible officer has left), each with its pair in the review queue."""
    return missing.match_alerts_for(user=request_user(request), status=status or None)


@router.post("/alerts/{alert_id}/take", response=MatchAlertOut, summary="Take an alert in charge")
def match_alert_take(request: HttpRequest, alert_id: uuid.UUID) -> MatchAlert:
    return missing.match_alert_take(actor=request_user(request), alert_id=alert_id)
