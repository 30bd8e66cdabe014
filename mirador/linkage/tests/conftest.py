"""Fixtures of the linkage tests: a model trained once on generated returnees with errors."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from mirador.linkage import engine, synthetic


@pytest.fixture(scope="session")
def returnees() -> pd.DataFrame:
    return synthetic.returnee_records(1500, seed=11)


@pytest.fixture(scope="session")
def deduplicated(returnees: pd.DataFrame) -> engine.LinkageOutcome:
    return engine.dedupe(returnees.drop(columns=["person_key"]))


@pytest.fixture(scope="session")
def trained_model(deduplicated: engine.LinkageOutcome) -> dict[str, Any]:
    return deduplicated.model
