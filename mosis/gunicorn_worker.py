"""The store's gunicorn worker: gthread, but a worker takes a new connection only while it has a free thread.

``gunicorn --worker-class mosis.gunicorn_worker.BalancedThreadWorker`` (the image's ``CMD``, ``bench/load.py``).

Why: all workers share one listening socket and stock gthread accepts whenever it has fewer than
``--worker-connections`` (1 000) connections, so whichever worker wakes first takes most of a burst of new
connections. Clients that keep their connection alive (devices, proxies, a load balancer's pool) then stay
on that worker for good: measured with 32 keep-alive connections on 4 workers × 4 threads, workers held 16,
11, 5 and 0 of them; the 16 on the busiest worker waited for its 4 threads while another worker sat idle,
and they made the floor's p90/p99 (docs/performance.md, "Sixth round").

This worker counts the requests it has handed to its thread pool and not yet finished (``in_flight``) and
stops accepting while that count is at ``--threads``, so a new connection goes to a worker that can serve
it now. Nothing is refused: while every worker is busy, new connections wait in the kernel's accept queue
(the listen backlog) instead of in one worker's thread-pool queue. Under saturation, though, the requests
of the kept-alive clients keep every thread busy all the time, and a new client would wait until the load
drops; so a busy worker still takes one new connection per ``accept_when_busy_every`` (20 ms) and queues
it like stock gthread. Connections already accepted (kept alive, or waiting for their request) are not
counted, so a worker still holds as many as ``--worker-connections``.

Everything here runs on the worker's main thread (gthread calls ``accept``, ``enqueue_req`` and
``finish_request`` from its event loop), so the counter needs no lock. These four methods are gthread's
internals, not a public API: gunicorn is pinned exactly in pyproject.toml, and
tests/core/test_gunicorn_worker.py runs the class in a real gunicorn, so an upgrade that renames them fails
there.
"""

from __future__ import annotations

from time import monotonic

from gunicorn.workers.gthread import ThreadWorker

from mosis.gunicorn_errors import JsonClientErrorsMixin


class BalancedThreadWorker(JsonClientErrorsMixin, ThreadWorker):
    """gthread that accepts a new connection only while one of its threads is free (or, when busy, one per
    ``accept_when_busy_every`` seconds), and refuses unparsable requests in the store's JSON error format
    (mosis.gunicorn_errors)."""

    # While every thread is busy the worker still takes one new connection per this many seconds: under
    # saturation the kept-alive clients keep every thread busy, and a client connecting then must wait about
    # this long, not until the load drops. Four workers take 200 such connections a second between them.
    accept_when_busy_every = 0.02

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_flight = 0  # requests handed to the thread pool and not finished yet
        self.last_accept = 0.0  # monotonic() when it last accepted a connection

    def has_free_thread(self) -> bool:
        return self.in_flight < self.cfg.threads

    def may_accept(self) -> bool:
        return self.has_free_thread() or monotonic() - self.last_accept >= self.accept_when_busy_every

    def enqueue_req(self, conn):
        self.in_flight += 1
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.in_flight -= 1
        super().finish_request(conn, fs)

    def set_accept_enabled(self, enabled):
        # gthread's loop asks again on every wake-up (a finished request wakes it), so a refusal here is
        # lifted as soon as a thread is free.
        super().set_accept_enabled(enabled and self.may_accept())

    def accept(self, listener):
        super().accept(listener)
        self.last_accept = monotonic()
        if not self.has_free_thread():
            super().set_accept_enabled(False)
