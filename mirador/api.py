"""The one NinjaAPI of Mirador, under /api/v1/, mounting each app's router.

Errors have one shape everywhere: {"error": {"code": ..., "message": ..., "details": {...}}}.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError as NinjaAuthenticationError
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from mirador.accounts.api import router as accounts_router
from mirador.accounts.auth import api_auth
from mirador.analytics.api import router as analytics_router
from mirador.consular.api import router as consular_router
from mirador.core.errors import ApplicationError
from mirador.directory.api import router as directory_router
from mirador.documents.api import router as documents_router
from mirador.flows.api import router as flows_router
from mirador.linkage.api import router as linkage_router
from mirador.people.api import router as people_router
from mirador.returns.api import router as returns_router
from mirador.screening.api import router as screening_router

api = NinjaAPI(
    title="Mirador API",
    version="1",
    description=(
        "Regional migration observatory; return, reintegration and consular platform. "
        "Authenticate with a session, or with `Authorization: Bearer TOKEN` from "
        "`POST /api/v1/auth/token`."
    ),
    auth=api_auth,
    urls_namespace="api",
    docs_url=None,
)


def error_response(
    request: HttpRequest, *, status: int, code: str, message: str, details: Any = None
) -> HttpResponse:
    return api.create_response(
        request,
        {"error": {"code": code, "message": message, "details": details or {}}},
        status=status,
    )


@api.exception_handler(ApplicationError)
def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return error_response(
        request, status=exc.http_status, code=exc.code, message=exc.message, details=exc.details
    )


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return error_response(
        request,
        status=422,
        code="validation_failed",
        message="Some values are not valid.",
        details={"errors": exc.errors},
    )


@api.exception_handler(NinjaAuthenticationError)
def on_authentication_error(request: HttpRequest, exc: NinjaAuthenticationError) -> HttpResponse:
    return error_response(
        request, status=401, code="not_authenticated", message="Authentication required."
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, status=404, code="not_found", message="Not found.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, status=exc.status_code, code="http_error", message=str(exc))


api.add_router("/auth/", accounts_router)
api.add_router("/people/", people_router)
api.add_router("/imports/", flows_router)
api.add_router("/returns/", returns_router)
api.add_router("/screening/", screening_router)
api.add_router("/documents/", documents_router)
api.add_router("/directory/", directory_router)
api.add_router("/linkage/", linkage_router)
api.add_router("/consular/", consular_router)
api.add_router("/analytics/", analytics_router)
