"""The heartbeat: one thread per process renews every lease the process holds.

A worker says what it holds (`with HEARTBEAT.holding(owner, Model, ...)`), and every
RENEW_EVERY seconds the thread pushes those leases LEASE ahead: one UPDATE per model,
whatever the number of rows. So a lease can be short (a dead worker's rows return
quickly) while the work itself may take as long as it needs (an Avito call with all its
retries). The thread starts with the first lease of a process (after a fork too: a
thread does not survive one) and uses a database connection of its own, closed after
each beat.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import datetime
from typing import Callable, Iterator

from django.db import DatabaseError, connections
from django.db.models import Model
from django.utils import timezone

from core.work.leases import leases_renew

logger = logging.getLogger(__name__)

RENEW_EVERY = 10.0  # seconds: a third of leases.LEASE, so two beats may be missed


class Heartbeat:
    def __init__(self, *, every: float = RENEW_EVERY, clock: Callable[[], datetime] = timezone.now):
        self.every, self.clock = every, clock
        self._lock = threading.Lock()
        self._held: Counter = Counter()  # (model, owner) -> how many `holding` blocks
        self._pid = 0

    @contextmanager
    def holding(self, owner: str, *models: type[Model]) -> Iterator[None]:
        """Keep the leases of `owner` on these models alive while the block runs."""
        keys = [(model, owner) for model in models]
        with self._lock:
            self._held.update(keys)
            self._start_if_needed()
        try:
            yield
        finally:
            with self._lock:
                self._held.subtract(keys)
                self._held = +self._held  # drop the zeros

    def beat(self) -> int:
        """Renew every lease held now; how many rows were renewed."""
        with self._lock:
            by_model: dict[type[Model], list[str]] = {}
            for model, owner in self._held:
                by_model.setdefault(model, []).append(owner)
        now = self.clock()
        return sum(leases_renew(model, owners, now=now) for model, owners in by_model.items())

    def _start_if_needed(self) -> None:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="avitogw-heartbeat", daemon=True).start()

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.every):
            try:
                self.beat()
            except DatabaseError:
                logger.warning("Could not renew this worker's leases; trying again in %.0f s", self.every,
                               exc_info=True)
            except Exception:  # noqa: BLE001 (the thread must live on)
                logger.exception("The heartbeat failed")
            finally:
                connections.close_all()  # this thread's own connections only


HEARTBEAT = Heartbeat()
