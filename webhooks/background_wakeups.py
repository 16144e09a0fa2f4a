"""The web process's wake-ups of the worker, sent by a thread of its own after the response.

The webhook must answer Avito fast, and waking the worker (a Redis round trip; a Celery
publish when Redis fails, which waits on the broker's timeouts) cost the request more CPU
than storing the notification. So each gunicorn worker process (gunicorn.conf.py,
post_fork) hands the wake-up of every stored event to a thread, which waits COALESCE
seconds for more to come and rings the doorbell once for all of them: at most one Redis
round trip (and one thread switch) per COALESCE per process, whatever the rate of
notifications, for a wake-up that comes that much later. An event is committed before its wake-up
is handed over, so the doorbell's promise holds (webhooks.doorbell). At the process's
exit (gunicorn's worker_exit) whatever is still pending is sent; a process killed
outright loses at most its last moment's wake-ups, and the sweep finds those events.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

logger = logging.getLogger(__name__)

COALESCE = 0.02  # seconds


class BackgroundWakeups:
    def __init__(self, send: Callable[[list[int]], None], *, coalesce: float = COALESCE):
        self._send, self._coalesce = send, coalesce
        self._lock = threading.Lock()
        self._pending: list[int] = []
        self._wanted = threading.Event()

    def start(self) -> "BackgroundWakeups":
        threading.Thread(target=self._run, name="avitogw-wakeups", daemon=True).start()
        return self

    def hand_over(self, event_pk: int) -> None:
        with self._lock:
            self._pending.append(event_pk)
        self._wanted.set()

    def flush(self) -> None:
        """Send what is pending, now, in the caller's thread."""
        with self._lock:
            event_pks, self._pending = self._pending, []
        if event_pks:
            self._send(event_pks)

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            time.sleep(self._coalesce)  # the burst goes on: let it hand over more first
            self._wanted.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 (the thread must live on; the sweep covers what was lost)
                logger.exception("Could not wake the worker for stored events")
