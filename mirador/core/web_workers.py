"""The web processes' worker: gunicorn's threaded worker, taking new connections only while
one of its threads is free.

gunicorn's worker processes share one listening socket, and its threaded worker takes every
connection it can, however busy its threads are. Clients that keep their connections open
(a proxy's pool, a program's session, the desks' browsers) then stay with whichever process
was quickest to take them: 27 of 32 such clients with one of two processes was seen here,
which left that process doing most of the work on one core (Python runs one thread at a time
per process) while the other core waited. This worker leaves a new connection to the other
processes while all its threads are busy, so connections spread over the processes with
free threads; a connection it has taken stays with it, as before.
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers.gthread import ThreadWorker


class BalancedThreadWorker(ThreadWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Requests handed to the threads and not finished (all on the worker's main thread).
        self.requests_in_hand = 0

    def enqueue_req(self, conn: Any) -> None:
        self.requests_in_hand += 1
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.requests_in_hand -= 1
        super().finish_request(conn, fs)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        # gunicorn's loop turns accepting back on before each wait while it holds fewer
        # connections than worker_connections; it is turned off again here while every
        # thread has a request, so the waiting connection goes to another process.
        if self.requests_in_hand >= self.cfg.threads:
            self.set_accept_enabled(False)
        super().wait_for_and_dispatch_events(timeout)
