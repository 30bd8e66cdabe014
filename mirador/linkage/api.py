"""API of record linkage, mounted at /api/v1/linkage/."""

from ninja import Router

router = Router(tags=["linkage"])
