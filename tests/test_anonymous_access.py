"""What a visitor who has not signed in can reach: exactly the public pages and API operations
listed here, and nothing else. Every other page sends them to sign in, every other API
operation answers 401, whatever the app that added it; a new public page or operation must
be added to these lists on purpose."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from mirador.api import api

pytestmark = pytest.mark.django_db

# Pages anyone may open (by URL name).
PUBLIC_PAGES = {
    "core:home",
    "accounts:login",
    "accounts:logout",
    "accounts:set_language",
    "accounts:two_factor",
    "accounts:two_factor_setup",
    "directory:index",
    "analytics:index",
    "analytics:csv",
    "analytics:parquet",
    "analytics:sdmx",
    "analytics:datapackage",
    "portal:profiles",
    "portal:profile",
    "portal:dashboards",
    "portal:dashboard",
    "portal:bulletins",
    "portal:bulletin_download",
    "api_docs",
    "healthz",
}
# API operations anyone may call: (method, path under /api/v1).
PUBLIC_OPERATIONS = {
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/directory/providers"),
    ("GET", "/api/v1/directory/providers/{provider_id}"),
    ("GET", "/api/v1/directory/services"),
    ("GET", "/api/v1/directory/services/{service_id}"),
}
PUBLIC_OPERATION_PREFIXES = ("/api/v1/analytics/",)  # the observatory's open data
SKIPPED_PREFIXES = ("admin/", "api/v1/", "static/")
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _example(converter: str | None) -> str:
    return {
        "uuid": str(uuid.uuid4()),
        "int": "1",
        "slug": "example",
        "path": "example",
    }.get(converter or "str", "example")


def _pages(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """(URL name, an example URL) of every page outside the admin and the API."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}{entry.namespace}:"
            yield from _pages(entry, route, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            url = "/" + PARAMETER.sub(lambda match: _example(match.group(1)), route)
            yield f"{namespace}{entry.name}", url.replace("^", "").replace("$", "")


def _operations() -> Iterator[tuple[str, str, bool]]:
    """(method, path, public) of every API operation, from the OpenAPI schema."""
    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, not operation.get("security")


def test_the_public_pages_are_exactly_those_listed() -> None:
    pages = dict(_pages())
    assert set(pages) >= PUBLIC_PAGES, sorted(PUBLIC_PAGES - set(pages))
    # The walk reaches the pages of every app, those with parameters included.
    assert {"people:detail", "returns:register", "screening:flag_close", "directory:refer"} <= set(
        pages
    )
    client = Client()
    login = reverse("accounts:login")
    for name, url in sorted(pages.items()):
        if name in PUBLIC_PAGES:
            continue
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, f"{name} {url}: {response.status_code}"
            assert response["Location"].startswith(login), f"{name} {url}"


def test_the_public_api_operations_are_exactly_those_listed() -> None:
    operations = list(_operations())
    public = {
        (method, path)
        for method, path, is_public in operations
        if is_public and not path.startswith(PUBLIC_OPERATION_PREFIXES)
    }
    assert public == PUBLIC_OPERATIONS
    client = Client()
    for method, path, is_public in operations:
        if is_public:
            continue
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        response = client.generic(method, url, data=b"{}", content_type="application/json")
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
