"""Saved linkage models: versions of a name, the latest by default, audited, and the rule that
only an administrator (or the operator at the command line) saves one."""

from __future__ import annotations

from typing import Any

import pytest

from mirador.accounts.models import Role, User
from mirador.core.errors import NotFoundError, PermissionDeniedError
from mirador.core.models import AuditEntry
from mirador.linkage.selectors import linkage_model_get
from mirador.linkage.services import linkage_model_save

pytestmark = pytest.mark.django_db


def test_a_model_saved_twice_gets_versions_and_loads_back(trained_model: dict[str, Any]) -> None:
    first = linkage_model_save(
        actor=None, name="returnees", settings=trained_model, training_data="1500 records"
    )
    second = linkage_model_save(actor=None, name="returnees", settings=trained_model)
    assert (first.version, second.version) == (1, 2)
    assert linkage_model_get(name="returnees") == second
    loaded = linkage_model_get(name="returnees", version=1)
    assert loaded.settings == trained_model
    assert loaded.training_data == "1500 records"
    assert str(loaded) == "returnees v1"
    assert AuditEntry.objects.filter(
        object_type="linkage.LinkageModel", object_id=str(first.pk)
    ).exists()


def test_another_name_starts_at_version_one(trained_model: dict[str, Any]) -> None:
    linkage_model_save(actor=None, name="a", settings=trained_model)
    assert linkage_model_save(actor=None, name="b", settings=trained_model).version == 1


def test_an_unknown_model_or_version_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        linkage_model_get(name="nothing")
    linkage_model_save(actor=None, name="one", settings={"comparisons": []})
    with pytest.raises(NotFoundError):
        linkage_model_get(name="one", version=2)


def test_a_user_who_is_not_an_administrator_may_not_save_a_model() -> None:
    officer = User.objects.create_user(
        username="officer", password="x", role=Role.RECEPTION_OFFICER
    )
    with pytest.raises(PermissionDeniedError):
        linkage_model_save(actor=officer, name="x", settings={"comparisons": []})
