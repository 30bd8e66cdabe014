"""Background tasks of the consular app (django-tasks, run by `mirador worker`)."""

from __future__ import annotations

from django_tasks import task

from mirador.consular import matching


@task()
def consular_case_match_task(case_id: str) -> str:
    """Match the person of a new consular case against the open missing-person reports."""
    return matching.case_match(case_id=case_id)


@task()
def consular_person_match_task(person_id: str) -> str:
    """Match the person of an open case who has just consented to tracing and matching."""
    return matching.person_match(person_id=person_id)
