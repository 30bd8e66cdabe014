"""Background tasks of the analytics app (django-tasks, run by the worker of mirador.flows.tasks:
`mirador worker`, or a thread of `mirador serve` in the demo)."""

from __future__ import annotations

from django_tasks import task

from mirador.analytics import bulletins


@task()
def bulletin_generate_task(edition_ids: list[str]) -> str:
    """Generate queued editions of a monthly bulletin (one per language) from one computation
    of the month's figures, and publish them."""
    return bulletins.bulletin_generate(edition_ids=edition_ids)
