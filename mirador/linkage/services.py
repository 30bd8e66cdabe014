"""Writes of the linkage app: saving a trained model as a new version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from mirador.accounts import permissions
from mirador.core.audit import audit_record
from mirador.core.errors import PermissionDeniedError, ValidationFailedError
from mirador.core.models import AuditAction
from mirador.linkage.engine import ENGINE_VERSION
from mirador.linkage.models import LinkageModel

if TYPE_CHECKING:
    from mirador.accounts.models import User

SAVE_ATTEMPTS = 3


def linkage_model_save(
    *,
    actor: User | None,
    name: str,
    settings: dict[str, Any],
    training_data: str = "",
    metrics: dict[str, Any] | None = None,
) -> LinkageModel:
    """Store a trained model as the next version of `name`. `actor` None is the operator at
    the command line; a signed-in user must be an administrator (accounts.permissions has no
    linkage rule yet, so the narrowest one applies)."""
    if actor is not None and not permissions.is_administrator(actor):
        raise PermissionDeniedError()
    for attempt in range(SAVE_ATTEMPTS):
        try:
            return _save_next_version(
                actor=actor,
                name=name,
                settings=settings,
                training_data=training_data,
                metrics=metrics or {},
            )
        except IntegrityError:
            # Two trainings of the same name at once: the later one takes the next number.
            if attempt == SAVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _save_next_version(
    *,
    actor: User | None,
    name: str,
    settings: dict[str, Any],
    training_data: str,
    metrics: dict[str, Any],
) -> LinkageModel:
    latest = LinkageModel.objects.filter(name=name).aggregate(latest=Max("version"))["latest"]
    model = LinkageModel(
        name=name,
        version=(latest or 0) + 1,
        settings=settings,
        engine_version=ENGINE_VERSION,
        training_data=training_data,
        metrics=metrics,
        created_by=actor,
        modified_by=actor,
    )
    try:
        model.full_clean(validate_constraints=False)
    except ValidationError as error:
        raise ValidationFailedError(details=dict(error.message_dict)) from error
    with transaction.atomic():
        model.save(force_insert=True)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="linkage.LinkageModel",
        object_id=model.pk,
        details={"name": name, "version": model.version},
    )
    return model
