"""Background tasks of the flows app (django-tasks, stored by django-tasks-db), and the worker
that runs them: `mirador worker` in production, a thread of `mirador serve` in the demo."""

from __future__ import annotations

import logging
import threading

from django.db import connection
from django.utils.crypto import get_random_string
from django_tasks import task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from mirador.flows import uploads

logger = logging.getLogger(__name__)


@task()
def validate_upload_task(job_id: str) -> str:
    """Check an uploaded file and prepare its preview and report; nothing is stored."""
    return uploads.upload_validate(job_id=job_id)


@task()
def store_upload_task(job_id: str) -> str:
    """Store a validated upload as an import batch, all or nothing."""
    return uploads.upload_store_run(job_id=job_id)


def _worker(*, batch: bool, interval: float = 1.0) -> Worker:
    return Worker(
        queue_names=["default"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=get_random_string(32),
        excluded_queue_names=[],
    )


def run_pending_tasks() -> int:
    """Run every task waiting in the database in this thread, then return how many ran.

    The worker's own claim and run steps, without its loop's connection housekeeping
    (closing old connections), which belongs to a process of its own: here the caller owns
    the connection, possibly inside a transaction (a test's, say)."""
    worker = _worker(batch=True)
    ran = 0
    while True:
        with exclusive_transaction():
            result = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if result is None:
                return ran
            result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1


def waiting_tasks() -> list[str]:
    """The dotted paths of the tasks waiting in the database, oldest first."""
    return list(
        DBTaskResult.objects.ready()
        .filter(backend_name="default")
        .order_by("enqueued_at")
        .values_list("task_path", flat=True)
    )


class WorkerThread(threading.Thread):
    """The database worker's loop in a daemon thread of this process, so that the demo needs
    no second terminal. Signals stay with the server (the worker's own handlers are for a
    process of its own); the thread ends with the process, or at `stop()`."""

    def __init__(self, *, interval: float = 1.0) -> None:
        super().__init__(name="mirador-task-worker", daemon=True)
        self.worker = _worker(batch=False, interval=interval)

    def run(self) -> None:
        try:
            self.worker.run()
        except Exception:
            logger.exception("the background task worker thread stopped")
        finally:
            connection.close()

    def stop(self, timeout: float = 10.0) -> None:
        self.worker.running = False
        self.join(timeout)


def start_worker_thread(*, interval: float = 1.0) -> WorkerThread:
    thread = WorkerThread(interval=interval)
    thread.start()
    return thread
