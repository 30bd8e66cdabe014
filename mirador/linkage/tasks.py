"""Background tasks of the linkage app (django-tasks, run by the worker of mirador.flows.tasks:
`mirador worker`, or a thread of `mirador serve` in the demo)."""

from __future__ import annotations

from django_tasks import task

from mirador.linkage import runs


@task()
def linkage_run_task(run_id: str) -> str:
    """Run a queued linkage run: the engine on its stored files, results beside them."""
    return runs.linkage_run_execute(run_id=run_id)
