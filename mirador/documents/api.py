"""API of identity documents, mounted at /api/v1/documents/."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["documents"])
