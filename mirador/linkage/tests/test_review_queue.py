"""The review queue: who sees which pairs (both records readable), decisions audited on the
pair and on both records, clusters as the union of accepted pairs, conflicts refused rather
than split silently, and "same person as" links shown only where the reader may open them."""

from __future__ import annotations

import pytest

from mirador.core.errors import NotFoundError, PermissionDeniedError
from mirador.core.models import AuditAction, AuditEntry
from mirador.linkage import review
from mirador.linkage.models import ReviewPair, ReviewStatus, UnidentifiedPerson
from mirador.linkage.review import RecordRef, ReviewConflictError, ReviewDecidedError
from mirador.linkage.tests.identification import Identification

pytestmark = pytest.mark.django_db


@pytest.fixture
def pairs(world: Identification) -> dict[str, ReviewPair]:
    """Pairs of every kind of scope: adults of Honduras and of Guatemala, a Honduran child,
    a person reported missing, an unidentified person."""
    world.person("hn adult 1", given_names="Carlos")
    world.person("hn adult 2", given_names="Carlos")
    world.person("hn adult 3", given_names="Marta")
    world.person("hn child", given_names="Marta", is_child=True)
    world.person("hn adult 4", given_names="Luis")
    world.reported("hn reported", given_names="Luis")
    world.person("gt adult 1", country="GT")
    world.person("gt adult 2", country="GT")
    unidentified = UnidentifiedPerson.objects.create(
        country_id="HN",
        reference="MOR-1",
        condition="deceased",
        found_on="2026-01-03",
        found_place="Tapachula",
        given_names="Luis",
    )
    world.persons["hn unidentified"] = unidentified
    return {
        "adults hn": world.pair("hn adult 1", "hn adult 2"),
        "child hn": world.pair("hn child", "hn adult 3"),
        "reported hn": world.pair("hn reported", "hn adult 4"),
        "reported unidentified": world.pair("hn reported", "hn unidentified"),
        "adults gt": world.pair("gt adult 1", "gt adult 2"),
    }


# Who sees which pair in the queue. Everyone else may not review at all (403).
QUEUE = {
    "officer.hn": {"adults hn"},
    "consular.hn": {"adults hn", "reported hn", "reported unidentified"},
    "protection.hn": {"adults hn", "child hn", "reported hn", "reported unidentified"},
    "officer.gt": {"adults gt"},
    "protection.gt": {"adults gt"},
}


@pytest.mark.parametrize("who", sorted(QUEUE))
def test_each_reviewer_sees_exactly_the_pairs_whose_two_records_they_may_read(
    world: Identification, pairs: dict[str, ReviewPair], who: str
) -> None:
    page = review.review_queue(user=world.users[who])

    shown = {view.pair.pk for view in page.pairs}
    assert shown == {pairs[name].pk for name in QUEUE[who]}
    assert page.total == len(QUEUE[who])


@pytest.mark.parametrize("who", ["caseworker.hn", "analyst.hn", "admin"])
def test_roles_that_do_not_keep_the_registry_review_nothing(
    world: Identification, pairs: dict[str, ReviewPair], who: str
) -> None:
    with pytest.raises(PermissionDeniedError):
        review.review_queue(user=world.users[who])
    assert AuditEntry.objects.filter(
        actor=world.users[who], action=AuditAction.DENIED, object_type=review.PAIR_OBJECT_TYPE
    ).exists()


def test_a_pair_outside_the_reviewers_scope_answers_not_found(
    world: Identification, pairs: dict[str, ReviewPair]
) -> None:
    child_pair = pairs["child hn"]
    with pytest.raises(NotFoundError):
        review.review_pair_get(user=world.users["officer.hn"], pair_id=child_pair.pk)


def test_the_queue_shows_both_records_with_the_reasons_strongest_first_and_audits_the_reads(
    world: Identification, pairs: dict[str, ReviewPair]
) -> None:
    officer = world.users["officer.hn"]
    (view,) = review.review_queue(user=officer).pairs

    assert {view.left.name, view.right.name} == {
        world.persons["hn adult 1"].full_name,
        world.persons["hn adult 2"].full_name,
    }
    weights = [reason["weight"] for reason in view.reasons]
    assert weights == sorted(weights, reverse=True)
    assert view.reasons[0]["level_label"] == "All given names equal"
    read = set(
        AuditEntry.objects.filter(
            actor=officer, action=AuditAction.READ, object_type="people.Person"
        ).values_list("object_id", flat=True)
    )
    assert read == {str(world.persons["hn adult 1"].pk), str(world.persons["hn adult 2"].pk)}


def test_accepting_a_pair_is_audited_on_the_pair_and_on_both_records(
    world: Identification, pairs: dict[str, ReviewPair]
) -> None:
    officer = world.users["officer.hn"]
    pair = review.review_pair_decide(
        actor=officer,
        pair=pairs["adults hn"],
        decision="accept",
        note="Same passport photo",
    )

    assert pair.status == ReviewStatus.ACCEPTED
    assert pair.decided_by == officer
    entries = AuditEntry.objects.filter(actor=officer, action=AuditAction.UPDATE)
    assert entries.filter(object_type=review.PAIR_OBJECT_TYPE, object_id=str(pair.pk)).exists()
    for name in ("hn adult 1", "hn adult 2"):
        entry = entries.get(object_type="people.Person", object_id=str(world.persons[name].pk))
        assert entry.details["decision"] == "accept"
        assert entry.details["review_pair"] == str(pair.pk)


def test_a_decided_pair_is_decided_again_only_after_reopening(
    world: Identification, pairs: dict[str, ReviewPair]
) -> None:
    officer = world.users["officer.hn"]
    pair = review.review_pair_decide(actor=officer, pair=pairs["adults hn"], decision="reject")
    with pytest.raises(ReviewDecidedError):
        review.review_pair_decide(actor=officer, pair=pair, decision="accept")

    review.review_pair_reopen(actor=officer, pair=pair, note="Wrong click")
    pair = review.review_pair_decide(actor=officer, pair=pair, decision="accept")
    assert pair.status == ReviewStatus.ACCEPTED
    decisions = AuditEntry.objects.filter(
        object_type=review.PAIR_OBJECT_TYPE, object_id=str(pair.pk), action=AuditAction.UPDATE
    ).values_list("details__decision", flat=True)
    assert sorted(decisions) == ["accept", "reject", "reopen"]


def test_a_cluster_is_the_union_of_the_accepted_pairs(world: Identification) -> None:
    for name in ("a", "b", "c", "d"):
        world.person(name, given_names="Rosa")
    officer = world.users["officer.hn"]
    for first, second in (("a", "b"), ("b", "c")):
        review.review_pair_decide(actor=officer, pair=world.pair(first, second), decision="accept")
    review.review_pair_decide(actor=officer, pair=world.pair("c", "d"), decision="reject")

    cluster = review.cluster_of(RecordRef.of(world.persons["a"]))
    assert cluster == {RecordRef.of(world.persons[name]) for name in ("a", "b", "c")}


def test_rejecting_a_pair_already_joined_through_other_acceptances_is_refused(
    world: Identification,
) -> None:
    for name in ("a", "b", "c"):
        world.person(name, given_names="Rosa")
    officer = world.users["officer.hn"]
    review.review_pair_decide(actor=officer, pair=world.pair("a", "b"), decision="accept")
    review.review_pair_decide(actor=officer, pair=world.pair("b", "c"), decision="accept")
    closing = world.pair("a", "c")

    with pytest.raises(ReviewConflictError) as refused:
        review.review_pair_decide(actor=officer, pair=closing, decision="reject")

    assert refused.value.message == str(review.JOINED_ELSEWHERE)
    closing.refresh_from_db()
    assert closing.status == ReviewStatus.PENDING
    assert len(review.cluster_of(RecordRef.of(world.persons["a"]))) == 3


def test_accepting_a_pair_that_would_join_records_said_to_be_different_is_refused(
    world: Identification,
) -> None:
    for name in ("a", "b", "c"):
        world.person(name, given_names="Rosa")
    officer = world.users["officer.hn"]
    rejected = review.review_pair_decide(
        actor=officer, pair=world.pair("a", "c"), decision="reject"
    )
    review.review_pair_decide(actor=officer, pair=world.pair("a", "b"), decision="accept")

    with pytest.raises(ReviewConflictError) as refused:
        review.review_pair_decide(actor=officer, pair=world.pair("b", "c"), decision="accept")

    assert refused.value.http_status == 409
    assert refused.value.details["rejected_pairs"] == [str(rejected.pk)]


def test_reopening_an_acceptance_splits_the_cluster_there(world: Identification) -> None:
    for name in ("a", "b", "c"):
        world.person(name, given_names="Rosa")
    officer = world.users["officer.hn"]
    first = review.review_pair_decide(actor=officer, pair=world.pair("a", "b"), decision="accept")
    review.review_pair_decide(actor=officer, pair=world.pair("b", "c"), decision="accept")

    review.review_pair_reopen(actor=officer, pair=first)

    assert review.cluster_of(RecordRef.of(world.persons["a"])) == {RecordRef.of(world.persons["a"])}
    assert len(review.cluster_of(RecordRef.of(world.persons["b"]))) == 2


def test_same_person_links_name_only_the_records_the_reader_may_open(
    world: Identification,
) -> None:
    adult = world.person("adult", given_names="Marta")
    world.person("adult again", given_names="Marta")
    world.person("as a child", given_names="Marta", is_child=True)
    protection = world.users["protection.hn"]
    review.review_pair_decide(
        actor=protection, pair=world.pair("adult", "adult again"), decision="accept"
    )
    review.review_pair_decide(
        actor=protection, pair=world.pair("adult", "as a child"), decision="accept"
    )

    seen_by_officer = review.same_person_links(user=world.users["officer.hn"], record=adult)
    seen_by_protection = review.same_person_links(user=protection, record=adult)

    assert [link.ref.id for link in seen_by_officer] == [world.persons["adult again"].pk]
    assert {link.ref.id for link in seen_by_protection} == {
        world.persons["adult again"].pk,
        world.persons["as a child"].pk,
    }
    assert review.same_person_links(user=world.users["officer.gt"], record=adult) == []


def test_the_shipped_reference_model_compares_what_the_engine_compares_today() -> None:
    """The reference model scores pairs outside runs; an engine whose comparisons changed
    would score them with a stale model (remake it with review.reference_model_write)."""
    import json

    from mirador.linkage import engine

    shipped = json.loads(review.REFERENCE_MODEL.read_text("utf-8"))
    design = engine.ModelDesign(
        ("given_names", "first_surname", "birth_year", "sex", "document_number")
    )

    def levels(comparisons: list[dict[str, object]]) -> list[tuple[object, list[object]]]:
        return [
            (
                comparison["output_column_name"],
                [level["sql_condition"] for level in comparison["comparison_levels"]],  # type: ignore[attr-defined]
            )
            for comparison in comparisons
        ]

    assert levels(shipped["comparisons"]) == levels(design.comparisons())
    for comparison in shipped["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                assert 0 < level["m_probability"] <= 1
                assert 0 < level["u_probability"] <= 1
