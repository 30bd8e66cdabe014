"""API of services directory and referrals, mounted at /api/v1/directory/."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["directory"])
