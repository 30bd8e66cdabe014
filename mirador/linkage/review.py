"""The review queue: candidate pairs of records that may be one person, each with the match
weight of every comparison of the Splink model (its reasons), accepted or rejected by a
reviewer; accepted pairs make clusters, and a cluster links its records wherever they are
shown.

A record is a registry person (`people.Person`) or an unidentified person
(`linkage.UnidentifiedPerson`), named by a `RecordRef`. Pairs come from registry runs
(runs.py), from the repeat-return search and from missing-person matching (missing.py); each
pair is proposed once (its `pair_key`), whichever source finds it again.

Clusters are the connected components of the accepted pairs, worked out when asked (no
cluster table to fall out of step). Decisions never leave a cluster holding two records a
reviewer said are different persons: accepting a pair that would join two groups between
which a pair was rejected, or rejecting a pair whose records are already joined through
other accepted pairs, is refused (409) until the reviewer reopens the decision that stands
in the way. A rejection splits nothing silently, and a split is always a reopened
acceptance, audited.

Who sees what is accounts.permissions' (review_pairs_visible_filter): a reviewer sees only
pairs whose two records they may read, and a cluster's links only to records they may read.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.core.audit import audit_batch, audit_record
from mirador.core.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from mirador.core.models import AuditAction
from mirador.linkage import engine
from mirador.linkage.models import (
    LinkageModel,
    LinkageRun,
    MatchAlert,
    MissingPersonReport,
    MissingReportStatus,
    ReviewPair,
    ReviewSource,
    ReviewStatus,
    UnidentifiedPerson,
)
from mirador.people.models import Person
from mirador.people.selectors import PERSON_OBJECT_TYPE, people_visible_to
from mirador.returns.models import AlertStatus, Arrival

if TYPE_CHECKING:
    from mirador.accounts.models import User
    from mirador.accounts.permissions import AnyUser

PAIR_OBJECT_TYPE = "linkage.ReviewPair"
UNIDENTIFIED_OBJECT_TYPE = "linkage.UnidentifiedPerson"
PERSON_KIND = "person"
UNIDENTIFIED_KIND = "unidentified"
_PREFIX = {PERSON_KIND: "p", UNIDENTIFIED_KIND: "u"}

# The model that scores pairs found outside a run: the latest saved version named
# MATCHING_MODEL_NAME (`mirador link dedupe REGISTRY.csv --save-model matching`), else the
# reference model shipped with Mirador, trained on generated returnees (see docs/linkage.md).
MATCHING_MODEL_NAME = "matching"
REFERENCE_MODEL = Path(__file__).resolve().parent / "data" / "reference_model.json"
REFERENCE_MODEL_LABEL = "reference"
# Pairs are scored only where they share the sound of a given name or a surname (either way
# round: a given name written as the surname) or a document: two records that share none of
# these are not one person whatever else agrees, and most new records share nothing with the
# few open reports, so that they are settled without starting the model at all.
LOOSE_BLOCKING = (
    engine.BlockingRule(("given_1_ph",)),
    engine.BlockingRule(("first_surname_ph",)),
    engine.BlockingRule(("first_surname_ph",), ("second_surname_ph",)),
    engine.BlockingRule(("second_surname_ph",), ("first_surname_ph",)),
    engine.BlockingRule(("given_1_ph",), ("first_surname_ph",)),
    engine.BlockingRule(("first_surname_ph",), ("given_1_ph",)),
    engine.BlockingRule(("document_number",)),
)
QUEUE_PAGE = 20
MAX_QUEUE_PAGE = 100

ALREADY_DECIDED = _("This pair has already been decided; reopen it to decide again.")
NOT_DECIDED = _("This pair has not been decided yet.")
UNKNOWN_DECISION = _("The decision is accept or reject.")
NOTE_TOO_LONG = _("The note is at most 300 characters.")
JOINED_ELSEWHERE = _(
    "These two records are already the same person through other accepted pairs: reopen "
    "the acceptance that is wrong first, so that the cluster is split on purpose."
)
REJECTED_BETWEEN = _(
    "Accepting this pair would make one person of records that a reviewer said are "
    "different persons: reopen that rejection first, or reject this pair."
)

# The engine's comparisons and levels (label_for_charts), as reviewers read them.
COMPARISON_LABELS = {
    "given_names": _("Given names"),
    "surnames": _("Surnames"),
    "birth_date": _("Date of birth"),
    "sex": _("Sex"),
    "document_number": _("Document number"),
    "place": _("Place"),
    "identical": _("All compared fields"),
}
LEVEL_LABELS = {
    "Null": _("Not recorded on one side"),
    "All given names equal": _("All given names equal"),
    "First given name equal": _("First given name equal"),
    "Given name and surname swapped": _("Given name and surname swapped"),
    "Spelling variant (Jaro-Winkler >= 0.92 or one edit)": _("Spelling variant"),
    "A part of a compound name in common": _("A part of a compound name in common"),
    "Similar (Jaro-Winkler >= 0.8)": _("Similar"),
    "Both surnames equal": _("Both surnames equal"),
    "Surnames swapped": _("Surnames swapped"),
    "First surname equal, the second missing on one side": _(
        "First surname equal, the second missing on one side"
    ),
    "First surname dropped on one side (the other's second surname)": _(
        "First surname dropped on one side"
    ),
    "Both surnames spelling variants": _("Both surnames spelling variants"),
    "First surname equal, second differs": _("First surname equal, second differs"),
    "A surname in common": _("A surname in common"),
    "First surname similar (Jaro-Winkler >= 0.8)": _("First surname similar"),
    "Same full date": _("Same full date"),
    "Day and month swapped": _("Day and month swapped"),
    "Partial dates that agree": _("Partial dates that agree"),
    "One digit wrong": _("One digit wrong"),
    "Same year and month": _("Same year and month"),
    "Two digits wrong or swapped": _("Two digits wrong or swapped"),
    "Same year": _("Same year"),
    "Equal": _("Equal"),
    "Nearly equal (Jaro-Winkler >= 0.95)": _("Nearly equal"),
    "Similar (Jaro-Winkler >= 0.88)": _("Similar"),
    "All other comparisons": _("Different"),
    "Identical": _("Identical"),
}


class ReviewConflictError(ApplicationError):
    code = "review_conflict"
    http_status = 409
    default_message = REJECTED_BETWEEN


class ReviewDecidedError(ApplicationError):
    code = "review_already_decided"
    http_status = 409
    default_message = ALREADY_DECIDED


# --- Records --------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class RecordRef:
    kind: str
    id: uuid.UUID

    @property
    def key(self) -> str:
        return f"{_PREFIX[self.kind]}:{self.id}"

    @classmethod
    def parse(cls, key: str) -> RecordRef:
        """A record key, "p:<uuid>" or "u:<uuid>"; ValueError otherwise."""
        prefix, _sep, rest = key.partition(":")
        kind = {value: name for name, value in _PREFIX.items()}.get(prefix)
        if kind is None:
            raise ValueError(key)
        return cls(kind, uuid.UUID(rest))

    @classmethod
    def of(cls, record: Person | UnidentifiedPerson) -> RecordRef:
        kind = PERSON_KIND if isinstance(record, Person) else UNIDENTIFIED_KIND
        return cls(kind, record.pk)


def pair_key(a: RecordRef, b: RecordRef) -> str:
    return "|".join(sorted((a.key, b.key)))


def _sides(pair: ReviewPair) -> tuple[RecordRef, RecordRef]:
    def side(person_id: Any, unidentified_id: Any) -> RecordRef:
        if person_id is not None:
            return RecordRef(PERSON_KIND, person_id)
        return RecordRef(UNIDENTIFIED_KIND, unidentified_id)

    return (
        side(pair.left_person_id, pair.left_unidentified_id),
        side(pair.right_person_id, pair.right_unidentified_id),
    )


def identity_row(record: Person | UnidentifiedPerson) -> dict[str, Any]:
    """A record as the engine reads it (engine.INPUT_COLUMNS), its key as record_id."""
    if isinstance(record, Person):
        documents = [document.number for document in record.documents.all()]
    else:
        documents = [record.document_number] if record.document_number else []
    return {
        engine.RECORD_ID: RecordRef.of(record).key,
        "given_names": record.given_names or None,
        "first_surname": record.first_surname or None,
        "second_surname": record.second_surname or None,
        "birth_year": record.birth_year,
        "birth_month": record.birth_month,
        "birth_day": record.birth_day,
        "sex": record.sex if record.sex in ("F", "M") else None,
        "document_number": documents[0] if documents else None,
    }


# --- Scoring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringModel:
    settings: dict[str, Any]
    name: str
    version: int | None


def matching_model() -> ScoringModel:
    saved = LinkageModel.objects.filter(name=MATCHING_MODEL_NAME).order_by("-version").first()
    if saved is not None:
        return ScoringModel(saved.settings, saved.name, saved.version)
    with REFERENCE_MODEL.open(encoding="utf-8") as handle:
        return ScoringModel(json.load(handle), REFERENCE_MODEL_LABEL, None)


def _without_term_frequencies(settings: dict[str, Any]) -> dict[str, Any]:
    """Term frequencies come from the records scored: a handful of them say nothing about how
    common a name is, so small sets are scored on the model's m and u alone."""
    comparisons = []
    for comparison in settings["comparisons"]:
        levels = []
        for level in comparison["comparison_levels"]:
            level = {
                key: value
                for key, value in level.items()
                if key
                not in (
                    "tf_adjustment_column",
                    "tf_adjustment_weight",
                    "tf_minimum_u_value",
                    "disable_tf_exact_match_detection",
                )
            }
            levels.append(level)
        comparisons.append({**comparison, "comparison_levels": levels})
    return {**settings, "comparisons": comparisons}


def score_pairs(
    left: Sequence[dict[str, Any]],
    right: Sequence[dict[str, Any]],
    *,
    model: ScoringModel,
    prior: float | None = None,
) -> pd.DataFrame:
    """Every pair of a left and a right record (rows of `identity_row`), scored by the model:
    the engine's pairs (match probability, match weight, weight_ and level_ of each
    comparison), best first, for the pairs of LOOSE_BLOCKING."""
    if not left or not right:
        return pd.DataFrame(columns=["record_id_l", "record_id_r", "match_probability"])
    extra = [
        c["output_column_name"].removeprefix("x_")
        for c in model.settings["comparisons"]
        if c["output_column_name"].startswith("x_")
    ]

    def frame(rows: Sequence[dict[str, Any]], source: str) -> pd.DataFrame:
        table = pd.DataFrame(list(rows), columns=list(rows[0]))
        for column in extra:
            table[column] = None
        table["birth_year"] = table["birth_year"].astype("Int64")
        table["birth_month"] = table["birth_month"].astype("Int64")
        table["birth_day"] = table["birth_day"].astype("Int64")
        return engine.prepare(table, extra_columns=extra, source=source)

    frames = [frame(left, "left"), frame(right, "right")]
    if not _any_blocked_pair(frames[0], frames[1]):
        return pd.DataFrame(columns=["record_id_l", "record_id_r", "match_probability"])
    rules = [{"blocking_rule": rule.sql(), "sql_dialect": "duckdb"} for rule in LOOSE_BLOCKING]
    settings = {
        **_without_term_frequencies(model.settings),
        "link_type": "link_only",
        "blocking_rules_to_generate_predictions": rules,
    }
    if prior is not None:
        settings["probability_two_random_records_match"] = prior
    linker = engine._linker(frames, settings)
    predictions = linker.inference.predict(
        threshold_match_probability=0.0, warning_mode="never"
    ).as_pandas_dataframe()
    if len(predictions) == 0:
        return pd.DataFrame(columns=["record_id_l", "record_id_r", "match_probability"])
    return engine._tidy_pairs(predictions, settings)


def _any_blocked_pair(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    for rule in LOOSE_BLOCKING:
        (column_left,), (column_right,) = rule.left, rule.right_columns
        keys = set(left[column_left].dropna())
        if keys and right[column_right].dropna().isin(keys).any():
            return True
    return False


def pair_reasons(row: pd.Series | dict[str, Any], settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The reasons of one scored pair: for each comparison, the level the two records reached
    and its match weight (log2 of m/u: positive for evidence of one person)."""
    reasons = []
    for comparison in settings["comparisons"]:
        name = comparison["output_column_name"]
        level = row.get(f"level_{name}")
        weight = row.get(f"weight_{name}")
        if level is None or (isinstance(level, float) and math.isnan(level)):
            continue
        non_null = [
            entry for entry in comparison["comparison_levels"] if not entry.get("is_null_level")
        ]
        gamma = int(level)
        label = "Null" if gamma < 0 else non_null[len(non_null) - 1 - gamma]["label_for_charts"]
        reasons.append(
            {"comparison": name, "level": label, "weight": round(float(weight or 0.0), 2)}
        )
    return reasons


def identical_reasons() -> list[dict[str, Any]]:
    return [{"comparison": "identical", "level": "Identical", "weight": None}]


def reasons_shown(reasons: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reasons in the reader's language, strongest evidence first."""
    shown = [
        {
            **reason,
            "comparison_label": str(
                COMPARISON_LABELS.get(reason["comparison"], reason["comparison"])
            ),
            "level_label": str(LEVEL_LABELS.get(reason["level"], reason["level"])),
        }
        for reason in reasons
    ]
    # Strongest evidence first; an identical pair (no weight) before any.
    return sorted(
        shown,
        key=lambda reason: -(math.inf if reason["weight"] is None else reason["weight"]),
    )


# --- Proposing pairs ------------------------------------------------------------------------


def _side_fields(side: str, ref: RecordRef) -> dict[str, Any]:
    if ref.kind == PERSON_KIND:
        return {f"{side}_person_id": ref.id, f"{side}_unidentified_id": None}
    return {f"{side}_person_id": None, f"{side}_unidentified_id": ref.id}


def review_pair_propose(
    *,
    a: RecordRef,
    b: RecordRef,
    source: str,
    match_probability: float,
    match_weight: float | None,
    reasons: list[dict[str, Any]],
    model_name: str = "",
    model_version: int | None = None,
    run: LinkageRun | None = None,
    report: MissingPersonReport | None = None,
    decided: tuple[str, User | None, str] | None = None,
) -> tuple[ReviewPair, bool]:
    """Put a pair in the queue unless it is there already (from any source, decided or not);
    returns the pair and whether it is new. `decided` (status, by whom, note) stores a
    decision already taken elsewhere (a candidate the officer rejected at registration)."""
    if a == b:
        raise ValueError("a record is not paired with itself")
    left, right = sorted((a, b))
    key = pair_key(left, right)
    existing = ReviewPair.objects.filter(pair_key=key).first()
    if existing is not None:
        return existing, False
    weight = None if match_weight is None or math.isinf(match_weight) else float(match_weight)
    pair = ReviewPair(
        pair_key=key,
        source=source,
        run=run,
        report=report,
        match_probability=float(match_probability),
        match_weight=weight,
        reasons=reasons,
        model_name=model_name,
        model_version=model_version,
        **_side_fields("left", left),
        **_side_fields("right", right),
    )
    if decided is not None:
        pair.status, pair.decided_by, pair.note = decided
        pair.decided_at = timezone.now()
        pair.created_by = pair.decided_by
    try:
        with transaction.atomic():
            pair.save(force_insert=True)
    except IntegrityError:
        # Found at the same moment by another task: that one is the pair.
        existing = ReviewPair.objects.filter(pair_key=key).first()
        if existing is None:
            raise
        return existing, False
    audit_record(
        actor=pair.decided_by if decided else None,
        action=AuditAction.CREATE,
        object_type=PAIR_OBJECT_TYPE,
        object_id=pair.pk,
        details={
            "source": source,
            "status": pair.status,
            "report": str(report.pk) if report else "",
        },
    )
    return pair, True


# --- Reading the queue ----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordView:
    """One side of a pair as a reviewer sees it."""

    ref: RecordRef
    name: str
    birth_date: str
    sex: str
    documents: list[str]
    registry: str
    kind_label: str
    details: list[tuple[str, str]]
    url: str


@dataclass(frozen=True)
class PairView:
    pair: ReviewPair
    left: RecordView
    right: RecordView
    reasons: list[dict[str, Any]]

    @property
    def probability_percent(self) -> str:
        return f"{self.pair.match_probability * 100:.1f}"


def review_pairs_visible_to(*, user: AnyUser | None) -> QuerySet[ReviewPair]:
    return ReviewPair.objects.filter(permissions.review_pairs_visible_filter(user)).distinct()


def _require_reviewer(user: AnyUser | None) -> User:
    member = permissions.active_user(user)
    if member is None or not permissions.can_review_linkage(member):
        audit_record(
            actor=member,
            action=AuditAction.DENIED,
            object_type=PAIR_OBJECT_TYPE,
            details={"outcome": "no-review-access"},
        )
        raise PermissionDeniedError()
    return member


def _record_views(
    *, user: User, refs: Iterable[RecordRef], via: str
) -> dict[RecordRef, RecordView]:
    """The records named, read through their scoped selectors; each read audited."""
    from django.urls import reverse

    from mirador.linkage.missing import unidentified_visible_to

    refs = set(refs)
    person_ids = [ref.id for ref in refs if ref.kind == PERSON_KIND]
    unidentified_ids = [ref.id for ref in refs if ref.kind == UNIDENTIFIED_KIND]
    views: dict[RecordRef, RecordView] = {}
    persons = (
        people_visible_to(user=user)
        .filter(pk__in=person_ids)
        .select_related("missing_person_report")
        .prefetch_related(
            "documents",
            Prefetch(
                "arrivals",
                queryset=Arrival.objects.filter(
                    permissions.arrivals_visible_filter(user)
                ).select_related("centre"),
            ),
        )
        if person_ids
        else []
    )
    for person in persons:
        ref = RecordRef(PERSON_KIND, person.pk)
        details: list[tuple[str, str]] = []
        report = getattr(person, "missing_person_report", None)
        kind_label = str(_("Registry record"))
        if report is not None:
            kind_label = str(_("Reported missing"))
            details.append((str(_("Reported on")), f"{report.reported_on:%Y-%m-%d}"))
            if report.last_seen_place:
                details.append((str(_("Last known place")), report.last_seen_place))
        arrivals = sorted(person.arrivals.all(), key=lambda arrival: arrival.arrived_at)
        for arrival in arrivals[-3:]:
            details.append(
                (
                    str(_("Returned")),
                    f"{timezone.localtime(arrival.arrived_at):%Y-%m-%d} · {arrival.centre.name}",
                )
            )
        views[ref] = RecordView(
            ref=ref,
            name=person.full_name,
            birth_date=person.birth_date_display,
            sex=str(person.get_sex_display()),
            documents=[document.number for document in person.documents.all()],
            registry=str(person.country),
            kind_label=kind_label,
            details=details,
            url=reverse("people:detail", kwargs={"person_id": person.pk}),
        )
    records = (
        unidentified_visible_to(user=user).filter(pk__in=unidentified_ids)
        if unidentified_ids
        else []
    )
    for record in records:
        ref = RecordRef(UNIDENTIFIED_KIND, record.pk)
        details = [
            (str(_("Found")), f"{record.found_on:%Y-%m-%d} · {record.found_place}"),
            (str(_("Condition")), str(record.get_condition_display())),
        ]
        if record.held_at:
            details.append((str(_("Held at")), record.held_at))
        if record.age_min is not None or record.age_max is not None:
            details.append(
                (str(_("Estimated age")), f"{record.age_min or '?'}–{record.age_max or '?'}")
            )
        views[ref] = RecordView(
            ref=ref,
            name=record.display_name,
            birth_date="-".join(
                f"{part:02d}" if index else f"{part:04d}"
                for index, part in enumerate(
                    p for p in (record.birth_year, record.birth_month, record.birth_day) if p
                )
            ),
            sex=str(record.get_sex_display()),
            documents=[record.document_number] if record.document_number else [],
            registry=str(record.country),
            kind_label=str(_("Unidentified person")),
            details=details,
            url=reverse("linkage:unidentified", kwargs={"record_id": record.pk}),
        )
    with audit_batch():
        for ref in sorted(views):
            audit_record(
                actor=user,
                action=AuditAction.READ,
                object_type=PERSON_OBJECT_TYPE
                if ref.kind == PERSON_KIND
                else UNIDENTIFIED_OBJECT_TYPE,
                object_id=ref.id,
                details={"fields": ["name", "birth_date", "documents"], "via": via},
            )
    return views


def _pair_views(*, user: User, pairs: Sequence[ReviewPair]) -> list[PairView]:
    refs = [ref for pair in pairs for ref in _sides(pair)]
    views = _record_views(user=user, refs=refs, via="review queue")
    shown = []
    for pair in pairs:
        left, right = _sides(pair)
        if left in views and right in views:
            shown.append(PairView(pair, views[left], views[right], reasons_shown(pair.reasons)))
    return shown


@dataclass(frozen=True)
class QueuePage:
    pairs: list[PairView]
    total: int
    offset: int
    limit: int


def review_queue(
    *,
    user: AnyUser | None,
    status: str = ReviewStatus.PENDING,
    source: str | None = None,
    limit: int = QUEUE_PAGE,
    offset: int = 0,
) -> QueuePage:
    """A page of the pairs `user` may review, most probable first, both records of each read
    (audited). PermissionDeniedError for roles that review nothing."""
    member = _require_reviewer(user)
    if status not in ReviewStatus.values:
        raise ValidationFailedError(details={"fields": {"status": [str(_("Unknown status."))]}})
    if source and source not in ReviewSource.values:
        raise ValidationFailedError(details={"fields": {"source": [str(_("Unknown source."))]}})
    limit = max(1, min(limit, MAX_QUEUE_PAGE))
    offset = max(0, offset)
    queryset = review_pairs_visible_to(user=member).filter(status=status)
    if source:
        queryset = queryset.filter(source=source)
    total = queryset.count()
    order = (
        ("-match_probability", "created_at") if status == ReviewStatus.PENDING else ("-decided_at",)
    )
    pairs = list(
        queryset.select_related("decided_by").order_by(*order, "pk")[offset : offset + limit]
    )
    audit_record(
        actor=member,
        action=AuditAction.LIST,
        object_type=PAIR_OBJECT_TYPE,
        details={"status": status, "source": source or "", "count": len(pairs), "offset": offset},
    )
    return QueuePage(_pair_views(user=member, pairs=pairs), total, offset, limit)


def review_pair_get(*, user: AnyUser | None, pair_id: uuid.UUID | str) -> ReviewPair:
    """A pair `user` may review; NotFoundError (audited) for any other, as for none."""
    member = _require_reviewer(user)
    try:
        key = uuid.UUID(str(pair_id))
    except ValueError:
        key = None
    pair = review_pairs_visible_to(user=member).filter(pk=key).first() if key else None
    if pair is None:
        audit_record(
            actor=member,
            action=AuditAction.DENIED,
            object_type=PAIR_OBJECT_TYPE,
            object_id=key or "",
        )
        raise NotFoundError()
    return pair


def review_pair_view(*, user: AnyUser | None, pair: ReviewPair) -> PairView:
    member = _require_reviewer(user)
    views = _pair_views(user=member, pairs=[pair])
    if not views:
        raise NotFoundError()
    return views[0]


# --- Clusters -------------------------------------------------------------------------------


def _touching(refs: Iterable[RecordRef]) -> Q:
    persons = [ref.id for ref in refs if ref.kind == PERSON_KIND]
    unidentified = [ref.id for ref in refs if ref.kind == UNIDENTIFIED_KIND]
    condition = Q(pk__in=[])
    if persons:
        condition |= Q(left_person_id__in=persons) | Q(right_person_id__in=persons)
    if unidentified:
        condition |= Q(left_unidentified_id__in=unidentified) | Q(
            right_unidentified_id__in=unidentified
        )
    return condition


def cluster_of(ref: RecordRef) -> set[RecordRef]:
    """The records joined to `ref` by accepted pairs, `ref` included (a breadth-first walk:
    clusters hold a few records)."""
    seen = {ref}
    frontier = {ref}
    while frontier:
        pairs = ReviewPair.objects.filter(_touching(frontier), status=ReviewStatus.ACCEPTED)
        reached = {side for pair in pairs for side in _sides(pair)} - seen
        seen |= reached
        frontier = reached
    return seen


def _rejected_between(first: set[RecordRef], second: set[RecordRef]) -> list[ReviewPair]:
    pairs = ReviewPair.objects.filter(_touching(first), status=ReviewStatus.REJECTED)
    found = []
    for pair in pairs:
        left, right = _sides(pair)
        if (left in first and right in second) or (left in second and right in first):
            found.append(pair)
    return found


def _serialise_decisions() -> None:
    """Decisions are taken one at a time, so that two reviewers cannot each pass the checks
    and together leave a cluster holding a rejected pair (SQLite writes one at a time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x6D697261646F72])


def _record_decision(*, actor: User, pair: ReviewPair, action: str, note: str) -> None:
    """Save the pair's new status with who decided, when and why, audited."""
    pair.decided_by = actor
    pair.decided_at = timezone.now()
    pair.note = note.strip()
    pair.modified_by = actor
    pair.save(
        update_fields=["status", "decided_by", "decided_at", "note", "modified_at", "modified_by"]
    )
    _audit_decision(actor=actor, pair=pair, action=action, note=note)


def _audit_decision(*, actor: User, pair: ReviewPair, action: str, note: str) -> None:
    details = {"review_pair": str(pair.pk), "decision": action}
    with audit_batch():
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=PAIR_OBJECT_TYPE,
            object_id=pair.pk,
            reason=note,
            details={"decision": action, "status": pair.status},
        )
        # Each record's own trail shows that it was linked, or kept apart.
        for ref in _sides(pair):
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type=PERSON_OBJECT_TYPE
                if ref.kind == PERSON_KIND
                else UNIDENTIFIED_OBJECT_TYPE,
                object_id=ref.id,
                details={**details, "fields": ["same_person"]},
            )


def review_pair_decide(
    *, actor: User, pair: ReviewPair, decision: str, note: str = ""
) -> ReviewPair:
    """Accept (the two records are one person) or reject a pending pair; audited on the pair
    and on both records. Refused with ReviewConflictError where the decision would make a
    cluster hold two records said to be different persons (see the module's docstring). A
    missing-person pair's alert is closed; accepting it marks the report found."""
    if decision not in ("accept", "reject"):
        raise ValidationFailedError(details={"fields": {"decision": [str(UNKNOWN_DECISION)]}})
    if len(note) > 300:
        raise ValidationFailedError(details={"fields": {"note": [str(NOTE_TOO_LONG)]}})
    with transaction.atomic():
        _serialise_decisions()
        pair = review_pair_get(user=actor, pair_id=pair.pk)
        if pair.status != ReviewStatus.PENDING:
            raise ReviewDecidedError()
        left, right = _sides(pair)
        if decision == "accept":
            conflicts = _rejected_between(cluster_of(left), cluster_of(right))
            if conflicts:
                raise ReviewConflictError(
                    details={"rejected_pairs": [str(conflict.pk) for conflict in conflicts]}
                )
            pair.status = ReviewStatus.ACCEPTED
        else:
            if right in cluster_of(left):
                raise ReviewConflictError(str(JOINED_ELSEWHERE))
            pair.status = ReviewStatus.REJECTED
        _record_decision(actor=actor, pair=pair, action=decision, note=note)
        _close_alert(actor=actor, pair=pair)
    return pair


def review_pair_reopen(*, actor: User, pair: ReviewPair, note: str = "") -> ReviewPair:
    """Take a decision back: the pair waits in the queue again. Reopening an acceptance
    splits the cluster there, which is the only way a cluster splits."""
    if len(note) > 300:
        raise ValidationFailedError(details={"fields": {"note": [str(NOTE_TOO_LONG)]}})
    with transaction.atomic():
        _serialise_decisions()
        pair = review_pair_get(user=actor, pair_id=pair.pk)
        if pair.status == ReviewStatus.PENDING:
            raise ReviewDecidedError(str(NOT_DECIDED))
        pair.status = ReviewStatus.PENDING
        _record_decision(actor=actor, pair=pair, action="reopen", note=note)
    return pair


def _close_alert(*, actor: User, pair: ReviewPair) -> None:
    alert = MatchAlert.objects.filter(pair=pair).select_related("report").first()
    if alert is None:
        return
    if alert.status != AlertStatus.CLOSED:
        alert.status = AlertStatus.CLOSED
        alert.taken_by = alert.taken_by or actor
        alert.taken_at = alert.taken_at or timezone.now()
        alert.modified_by = actor
        alert.save(update_fields=["status", "taken_by", "taken_at", "modified_at", "modified_by"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="linkage.MatchAlert",
            object_id=alert.pk,
            details={"status": alert.status, "review_pair": str(pair.pk)},
        )
    report = alert.report
    if pair.status == ReviewStatus.ACCEPTED and report.status == MissingReportStatus.OPEN:
        report.status = MissingReportStatus.FOUND
        report.modified_by = actor
        report.save(update_fields=["status", "modified_at", "modified_by"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=PERSON_OBJECT_TYPE,
            object_id=report.person_id,
            details={"fields": ["missing_person_report"], "status": report.status},
        )


# --- Links shown beside a record ------------------------------------------------------------


def same_person_links(
    *, user: AnyUser | None, record: Person | UnidentifiedPerson
) -> list[RecordView]:
    """The other records of `record`'s cluster that `user` may read (each read audited);
    records outside the user's scope are left out without a trace, their number included."""
    member = permissions.active_user(user)
    if member is None or not permissions.can_read_personal_data(member):
        return []
    ref = RecordRef.of(record)
    others = cluster_of(ref) - {ref}
    if not others:
        return []
    views = _record_views(user=member, refs=others, via=f"same person as {ref.key}")
    return [views[other] for other in sorted(views)]


# --- Registry runs --------------------------------------------------------------------------

REGISTRY_RUN_REASON = "registry linkage run"


def registry_run_start(
    *,
    actor: User,
    country: str,
    model: str = "",
    threshold: float = engine.DEFAULT_THRESHOLD,
) -> LinkageRun:
    """Queue the deduplication of `country`'s registry: the records whose consent to tracing
    and matching is in force, scored by the saved `model` (NAME or NAME:VERSION) or by one
    trained on them; pairs at or above `threshold` go to the review queue. The operator who
    starts it sees counts and record ids, never a name (accounts.permissions.can_run_linkage)."""
    from mirador.linkage.runs import LinkageUploadError
    from mirador.linkage.selectors import linkage_model_get
    from mirador.linkage.tasks import linkage_run_task

    if not permissions.can_run_linkage(actor):
        raise PermissionDeniedError()
    from mirador.core.models import Country

    registry = Country.objects.filter(pk=(country or "").strip().upper()).first()
    if registry is None:
        raise ValidationFailedError(
            details={"fields": {"country": [str(_("Unknown country code."))]}}
        )
    if not 0 < threshold <= 1:
        raise LinkageUploadError(
            str(_("The threshold must be a probability above 0 and at most 1."))
        )
    model_name, model_version = "", None
    if model:
        name, _sep, version = model.partition(":")
        if version and not version.isdigit():
            raise LinkageUploadError(
                str(_("The model is given as NAME or NAME:VERSION (a number)."))
            )
        try:
            saved = linkage_model_get(name=name, version=int(version) if version else None)
        except NotFoundError as error:
            raise LinkageUploadError(error.message) from None
        model_name, model_version = saved.name, saved.version
    with transaction.atomic():
        run = LinkageRun.objects.create(
            kind="registry",
            country=registry,
            threshold=threshold,
            model_name=model_name,
            model_version=model_version,
            inputs=[{"name": f"registry:{registry.pk}"}],
            created_by=actor,
            modified_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="linkage.LinkageRun",
            object_id=run.pk,
            details={"kind": "registry", "country": registry.pk, "model": model_name},
        )
        linkage_run_task.enqueue(str(run.pk))
    return run


def registry_run_execute(
    *, run: LinkageRun, model: dict[str, Any] | None, progress: Any
) -> engine.LinkageOutcome:
    """The task's work for a registry run: read the records (people.selectors, audited as one
    listing), deduplicate them, put the pairs in the review queue. Returns the outcome, whose
    pairs and clusters the run writes beside it."""
    from mirador.people.selectors import CONSENT_GRANTED, people_for_matching

    assert run.country_id is not None  # noqa: S101 — registry runs are started with one
    persons = people_for_matching(
        country_id=run.country_id,
        consent=CONSENT_GRANTED,
        reason=f"{REGISTRY_RUN_REASON} {run.pk}",
    )
    if len(persons) < 2:
        raise engine.InputError("empty", "there are fewer than two records to compare")
    rows = [identity_row(person) for person in persons]
    table = pd.DataFrame(rows)
    for column in ("birth_year", "birth_month", "birth_day"):
        table[column] = table[column].astype("Int64")
    frame = engine.prepare(table, source=f"registry:{run.country_id}")
    outcome = engine.dedupe(
        frame, model=model, threshold=run.threshold, progress=progress, prepared=True
    )
    model_name = run.model_name or f"trained for run {run.pk}"
    for row in outcome.pairs.to_dict("records"):
        identical = row["match_weight"] is not None and math.isinf(row["match_weight"])
        review_pair_propose(
            a=RecordRef.parse(row["record_id_l"]),
            b=RecordRef.parse(row["record_id_r"]),
            source=ReviewSource.LINKAGE_RUN,
            match_probability=row["match_probability"],
            match_weight=row["match_weight"],
            reasons=identical_reasons() if identical else pair_reasons(row, outcome.model),
            model_name=model_name[:100],
            model_version=run.model_version,
            run=run,
        )
    return outcome


def reference_model_write(*, records: int = 4000, seed: int = 7) -> Path:
    """Train the reference model on generated returnees (synthetic.returnee_records, with
    their typos, dropped and swapped surnames and date errors) and write it where
    `matching_model` finds it: `mirador shell -c "from mirador.linkage.review import
    reference_model_write; reference_model_write()"`."""
    from mirador.linkage import synthetic

    table = synthetic.returnee_records(records, seed=seed).drop(columns=["person_key"])
    model = engine.dedupe(table).model
    REFERENCE_MODEL.write_text(json.dumps(model, indent=1, sort_keys=True) + "\n", "utf-8")
    return REFERENCE_MODEL
