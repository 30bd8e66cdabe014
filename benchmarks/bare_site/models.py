from __future__ import annotations

from django.db import models


class Row(models.Model):
    """The one table: what a registration would carry, as one JSON value."""

    created_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()

    def __str__(self) -> str:
        return str(self.pk)
