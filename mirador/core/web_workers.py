"""The web processes' worker: gunicorn's threaded worker, leaving a new connection for a
moment to the other processes while all its own threads are busy.

gunicorn's worker processes share one listening socket, and its threaded worker takes every
connection it can, however busy its threads are. Clients that keep their connections open
(a proxy's pool, a program's session, the desks' browsers) then stay with whichever process
was quickest to take them: 27 of 32 such clients with one of two processes was seen here,
which left that process doing most of the work on one core (Python runs one thread at a time
per process) while the other core waited.

This worker, when a connection waits while every one of its threads has a request, lets
ACCEPT_DEFERRAL_SECONDS pass first: a process with a free thread, woken by the same
connection, takes it meanwhile. If none has, this worker takes it then, so a new client waits
at most that much longer when every process is busy, and is never left waiting for a thread
to be free. A connection a worker has taken stays with it, as before.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

ACCEPT_DEFERRAL_SECONDS = 0.02


class BalancedThreadWorker(ThreadWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # All on the worker's main thread, as gunicorn's own bookkeeping is.
        self.requests_in_hand = 0  # handed to the threads and not finished
        self.deferred_at: float | None = None  # when a waiting connection was left
        self.take_waiting = False  # this round of the loop takes a waiting connection

    def _all_threads_busy(self) -> bool:
        return self.requests_in_hand >= self.cfg.threads

    def enqueue_req(self, conn: Any) -> None:
        self.requests_in_hand += 1
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.requests_in_hand -= 1
        super().finish_request(conn, fs)

    def accept(self, listener: Any) -> None:
        if self._all_threads_busy() and not self.take_waiting:
            self.deferred_at = time.monotonic()
            return
        super().accept(listener)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        # gunicorn's loop turns accepting back on before each wait (while it holds fewer
        # connections than worker_connections); here it is turned off again during a deferral.
        self.take_waiting = False
        if self.deferred_at is not None:
            remaining = self.deferred_at + ACCEPT_DEFERRAL_SECONDS - time.monotonic()
            if remaining > 0 and self._all_threads_busy():
                self.set_accept_enabled(False)
                timeout = min(timeout, remaining)
            else:
                # The connection is taken now if no other process has taken it: one look.
                self.deferred_at = None
                self.take_waiting = True
                timeout = 0
        super().wait_for_and_dispatch_events(timeout)
