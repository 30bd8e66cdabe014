"""Domain errors: raised by services and selectors, turned into responses in one place."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    """A failure the user can understand and act on. `code` is stable for API clients."""

    code = "application_error"
    http_status = 400
    default_message = _("The request could not be carried out.")

    def __init__(self, message: str | None = None, *, details: dict[str, object] | None = None):
        self.message = str(message or self.default_message)
        self.details = details or {}
        super().__init__(self.message)


class NotFoundError(ApplicationError):
    """Also raised for records that exist but are out of the user's scope, so that their
    existence is not revealed."""

    code = "not_found"
    http_status = 404
    default_message = _("Not found.")


class PermissionDeniedError(ApplicationError):
    code = "permission_denied"
    http_status = 403
    default_message = _("You do not have permission to do this.")


class AuthenticationError(ApplicationError):
    code = "authentication_failed"
    http_status = 401
    default_message = _("Authentication failed.")


class ValidationFailedError(ApplicationError):
    code = "validation_failed"
    http_status = 422
    default_message = _("Some values are not valid.")


def fields_error(fields: Mapping[str, object]) -> ValidationFailedError:
    """A ValidationFailedError with one message per field, in the API's shape."""
    return ValidationFailedError(
        details={"fields": {name: [str(message)] for name, message in fields.items()}}
    )


def validation_failed(error: ValidationError) -> ValidationFailedError:
    """Django's ValidationError (from `full_clean`) as a ValidationFailedError, field by
    field."""
    return ValidationFailedError(
        details={
            "fields": {
                field: [str(message) for message in messages]
                for field, messages in error.message_dict.items()
            }
        }
    )
