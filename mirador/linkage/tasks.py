"""Background tasks of the linkage app (django-tasks, run by the worker of mirador.flows.tasks:
`mirador worker`, or a thread of `mirador serve` in the demo)."""

from __future__ import annotations

from django_tasks import task

from mirador.linkage import missing, runs


@task()
def linkage_run_task(run_id: str) -> str:
    """Run a queued linkage run: the engine on its stored files, results beside them."""
    return runs.linkage_run_execute(run_id=run_id)


@task()
def arrival_match_task(arrival_id: str) -> str:
    """Match a new return against the open missing-person reports and earlier returnees."""
    return missing.arrival_match(arrival_id=arrival_id)


@task()
def missing_report_match_task(report_id: str) -> str:
    """Match a new missing-person report against its country's returns and unidentified
    persons."""
    return missing.report_match(report_id=report_id)


@task()
def unidentified_match_task(record_id: str) -> str:
    """Match a new unidentified person against the open missing-person reports."""
    return missing.unidentified_match(record_id=record_id)


@task()
def person_match_task(person_id: str) -> str:
    """Match a returnee who has just given consent to tracing and matching against the open
    missing-person reports."""
    return missing.person_match(person_id=person_id)
