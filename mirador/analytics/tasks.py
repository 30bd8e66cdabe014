"""Background tasks of the analytics app (django-tasks, run by the worker of mirador.flows.tasks:
`mirador worker`, or a thread of `mirador serve` in the demo)."""

from __future__ import annotations

from django_tasks import task

from mirador.analytics import bulletins, figure_blocks


@task()
def bulletin_generate_task(edition_ids: list[str]) -> str:
    """Generate queued editions of a monthly bulletin (one per language) from one computation
    of the month's figures, and publish them."""
    return bulletins.bulletin_generate(edition_ids=edition_ids)


@task()
def figure_blocks_build_task(dataset_id: str) -> int:
    """After an import or a rollback: the dataset's figures as one block per series, for the
    dashboards (PostgreSQL); returns how many figures the set holds."""
    block_set = figure_blocks.figure_blocks_build(dataset_id=dataset_id)
    return block_set.figures if block_set is not None else 0
