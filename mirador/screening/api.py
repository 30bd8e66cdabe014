"""API of screening for vulnerability, mounted at /api/v1/screening/."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["screening"])
