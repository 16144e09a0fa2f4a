"""One object per process (a client, a pool, a connection), built on first use and again after a fork.

A pooled HTTP session, a Redis connection or a thread pool must not cross a fork: Celery's
prefork pool and gunicorn fork after the parent may have built one. `PerProcess(build)`
holds what `build()` returned together with the pid it was built in; `get()` in another
pid (a forked child) builds anew. `key`, when given, is part of the identity too (the
wake-up bell's client follows settings.REDIS_URL, which tests change). The lock is made new
in a forked child, since a fork copies it in whatever state another thread left it.
"""
from __future__ import annotations

import os
import threading
import weakref
from typing import Callable, Generic, Hashable, TypeVar

T = TypeVar("T")
_every: weakref.WeakSet[PerProcess] = weakref.WeakSet()


class PerProcess(Generic[T]):
    def __init__(self, build: Callable[[], T], *, key: Callable[[], Hashable] = lambda: None):
        self._build, self._key = build, key
        self._lock = threading.Lock()
        self._held: tuple[int, Hashable, T] | None = None
        _every.add(self)

    def get(self) -> T:
        stamp = (os.getpid(), self._key())
        with self._lock:
            if self._held is None or self._held[:2] != stamp:
                self._held = (*stamp, self._build())
            return self._held[2]

    def reset(self) -> None:
        """Forget the object (tests that change settings between cases)."""
        with self._lock:
            self._held = None

    def _after_fork(self) -> None:
        self._lock = threading.Lock()


def _after_fork_in_child() -> None:
    for holder in list(_every):
        holder._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
