"""Fixtures of the linkage tests: a model trained once on generated returnees with errors; the
identification world of the review-queue and missing-person tests."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from mirador.linkage import engine, synthetic
from mirador.linkage.tests.identification import Identification, make_identification


@pytest.fixture(scope="session")
def returnees() -> pd.DataFrame:
    return synthetic.returnee_records(1500, seed=11)


@pytest.fixture(scope="session")
def deduplicated(returnees: pd.DataFrame) -> engine.LinkageOutcome:
    return engine.dedupe(returnees.drop(columns=["person_key"]))


@pytest.fixture(scope="session")
def trained_model(deduplicated: engine.LinkageOutcome) -> dict[str, Any]:
    return deduplicated.model


@pytest.fixture
def world(make_user: Any, make_organisation: Any, settings: Any) -> Identification:
    """The identification world (tests/identification.py): users of each role, a centre."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MIRADOR_REQUIRE_TWO_FACTOR = False
    return make_identification(make_user, make_organisation)
