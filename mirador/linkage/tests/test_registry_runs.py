"""Registry runs: an administrator deduplicates a country's registry in the background; the
records with consent to tracing are read (one audited listing), their pairs go to the review
queue of that country's officials, and the run's files hold record ids, never names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mirador.core.models import AuditAction, AuditEntry
from mirador.flows.tasks import run_pending_tasks
from mirador.linkage import review
from mirador.linkage.models import LinkageRun, ReviewPair, ReviewSource, RunStatus
from mirador.linkage.runs import run_directory
from mirador.linkage.services import linkage_model_save
from mirador.linkage.tests.identification import Identification, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def test_a_registry_run_puts_the_registrys_duplicates_in_the_queue(world: Identification) -> None:
    birth: dict[str, Any] = {"birth_year": 1990, "birth_month": 3, "birth_day": 14}
    world.person(
        "original",
        given_names="Wilmer Josué",
        first_surname="Bonilla",
        second_surname="Castro",
        sex="M",
        **birth,
    )
    world.person(
        "again",
        given_names="WILMER JOSUE",
        first_surname="BONILLA",
        second_surname="CASTRO",
        sex="M",
        **birth,
    )
    world.person(
        "other",
        given_names="Dilcia",
        first_surname="Zelaya",
        second_surname="Paz",
        sex="F",
        birth_year=1977,
    )
    world.person(
        "no consent",
        given_names="Wilmer Josué",
        first_surname="Bonilla",
        second_surname="Castro",
        sex="M",
        consent=False,
        **birth,
    )
    world.person(
        "abroad", country="GT", given_names="Wilmer Josué", first_surname="Bonilla", **birth
    )
    admin = world.users["admin"]
    linkage_model_save(
        actor=admin,
        name="registry-test",
        settings=json.loads(review.REFERENCE_MODEL.read_text("utf-8")),
    )

    started = signed_in(admin).post(
        "/api/v1/linkage/registry-runs",
        data=json.dumps({"country": "HN", "model": "registry-test"}),
        content_type="application/json",
    )
    assert started.status_code == 202
    run_pending_tasks()

    run = LinkageRun.objects.get(pk=started.json()["id"])
    assert run.status == RunStatus.DONE, run.message
    pair = ReviewPair.objects.get()
    assert pair.source == ReviewSource.LINKAGE_RUN
    assert pair.run == run
    assert {pair.left_person_id, pair.right_person_id} == {
        world.persons["original"].pk,
        world.persons["again"].pk,
    }
    consenting_in_honduras = ["original", "again", "other"]  # not "no consent", nor "abroad"
    assert AuditEntry.objects.filter(
        actor=None,
        action=AuditAction.LIST,
        object_type="people.Person",
        details__count=len(consenting_in_honduras),
        details__country="HN",
    ).exists()
    pairs = pd.read_csv(run_directory(run) / "pairs.csv")
    text = (run_directory(run) / "pairs.csv").read_text("utf-8")
    assert len(pairs) == 1
    assert "Bonilla" not in text and "BONILLA" not in text
    # The pair is the Honduran officials' to decide.
    assert review.review_queue(user=world.users["officer.hn"]).total == 1
    assert review.review_queue(user=world.users["officer.gt"]).total == 0
