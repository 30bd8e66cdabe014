"""People endpoints; every one goes through people.selectors, which enforce access and audit."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["people"])
