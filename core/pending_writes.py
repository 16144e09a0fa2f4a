"""Writes that must not be lost while our database is unreachable: done now, or kept on disk and done later.

A send that Avito has accepted must be stored (the message, the Idempotency-Key's answer), but
the caller must get Avito's answer even when the database is down at that moment (issue 20).
`pending_write(kind, payload)` runs the kind's write at once. When the database cannot be
reached (core.database_outage), it tries once more on a new connection (a persistent
connection a restart dropped), and then keeps the write as a file in PENDING_WRITES_DIR
(`DATA_DIR/pending-writes`, written, fsynced and renamed into place) and returns: the caller
answers as if it had been stored. Only that failure costs an fsync; a normal write costs nothing
more than the write.

Kept writes are replayed oldest first, each with the same function as the first try, so every
kind's write must be idempotent (an upsert by Avito's id, an update fenced on what it expects):
- by a thread of the process that kept one, every REPLAY_EVERY seconds until none is left;
- in a web process when it starts (gunicorn's post_worker_init), if any is waiting;
- in the worker, by the engine's sweep (a chore, every few seconds);
- before a request that would read what one may hold (`pending_writes_replay_if_any`).
One replayer at a time (a lock file); a replay that meets the database still down stops and
leaves the rest. A write that fails otherwise (a bug) is moved to `failed/` and logged, so it
cannot block the others. The files are per machine: each machine replays its own DATA_DIR.

A process killed between Avito's answer and the file being written loses that write (nothing
can be done about that moment); the message is still at Avito, and reconciliation stores it
as an outgoing message when it reads that chat.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections

from core.database_outage import connection_failed, on_new_connection_if_dropped

logger = logging.getLogger(__name__)

REPLAY_EVERY = 1.0  # seconds between a waiting process's tries while the database is down
SUFFIX = ".json"
_replays: dict[str, Callable[[dict], Any]] = {}


def register_replay(kind: str, write: Callable[[dict], Any]) -> None:
    """`write(payload)` stores one kept write of `kind`; it runs again on replay, so it must be idempotent."""
    _replays[kind] = write


def pending_writes_dir() -> Path:
    return Path(settings.PENDING_WRITES_DIR)


def pending_write(kind: str, payload: dict) -> bool:
    """Do the write of `kind` now, or keep it for when the database is back: True if it was written now."""
    write = _replays[kind]
    try:
        on_new_connection_if_dropped(lambda: write(payload))
        return True
    except (OperationalError, InterfaceError) as exc:
        if not connection_failed(exc) or connection.in_atomic_block:
            raise
        connection.close()
        failure = exc
    path = _keep(kind, payload)
    logger.warning("The database is unreachable (%s); kept the %s write in %s, to be done when it is back",
                   failure.__class__.__name__, kind, path.name)
    REPLAYER.start()
    return False


def _keep(kind: str, payload: dict) -> Path:
    folder = pending_writes_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
    temporary = folder / f".{name}.tmp"
    data = json.dumps({"kind": kind, "payload": payload}, ensure_ascii=False, default=str).encode()
    with open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, folder / name)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash of the machine
    finally:
        os.close(directory)
    return folder / name


def pending_writes_waiting() -> list[Path]:
    """The kept writes, oldest first (a listing of one folder: cheap enough to ask before a request)."""
    try:
        names = sorted(entry.name for entry in os.scandir(pending_writes_dir())
                       if entry.name.endswith(SUFFIX) and not entry.name.startswith("."))
    except FileNotFoundError:
        return []
    return [pending_writes_dir() / name for name in names]


def pending_writes_replay() -> int:
    """Do the kept writes, oldest first, until the database fails; how many were done."""
    if not pending_writes_waiting():
        return 0
    folder = pending_writes_dir()
    with open(folder / ".lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # another process or thread is replaying them now
        try:
            return _replay_locked()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _replay_locked() -> int:
    done = 0
    for path in pending_writes_waiting():
        try:
            entry = json.loads(path.read_bytes())
            _replays[entry["kind"]](entry["payload"])
        except FileNotFoundError:
            continue
        except (OperationalError, InterfaceError) as exc:
            if not connection_failed(exc):
                _set_aside(path, exc)
                continue
            connection.close()
            logger.info("The database is still unreachable (%s); %d kept writes wait",
                        exc.__class__.__name__, len(pending_writes_waiting()))
            break
        except Exception as exc:  # noqa: BLE001 - a write that can never succeed must not block the rest
            _set_aside(path, exc)
            continue
        path.unlink(missing_ok=True)
        done += 1
    if done:
        logger.warning("Did %d writes kept while the database was unreachable", done)
    return done


def _set_aside(path: Path, exc: Exception) -> None:
    failed = path.parent / "failed"
    failed.mkdir(exist_ok=True)
    os.replace(path, failed / path.name)
    logger.error("A kept write failed and was moved to %s: %r", failed / path.name, exc)


def pending_writes_replay_if_any() -> int:
    """Replay the kept writes, if there are any (before a request that may read what they hold)."""
    try:
        return pending_writes_replay() if pending_writes_waiting() else 0
    except Exception:  # noqa: BLE001 - the request goes on; the thread or the sweep replays later
        logger.warning("Could not replay the kept writes", exc_info=True)
        return 0


class Replayer:
    """One thread per process that replays the kept writes until none is left, then ends."""

    def __init__(self, *, every: float = REPLAY_EVERY):
        self.every = every
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def start(self) -> None:
        with self._lock:
            if self._thread is None or self._pid != os.getpid():  # none yet, or one left behind by a fork
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="avitogw-pending-writes", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.every)
            try:
                pending_writes_replay()
            except Exception:  # noqa: BLE001 - the thread must live on while writes wait
                logger.exception("Replaying the kept writes failed")
            finally:
                connections.close_all()  # this thread's own connections only
            with self._lock:  # a write kept meanwhile either is seen here or starts a new thread
                if not pending_writes_waiting():
                    self._thread = None
                    return


REPLAYER = Replayer()
os.register_at_fork(after_in_child=lambda: REPLAYER.__init__(every=REPLAYER.every))  # no thread crosses a fork


def pending_writes_resume() -> None:
    """At a process's start: replay what an earlier process kept, in the background."""
    if pending_writes_waiting():
        REPLAYER.start()


def pending_writes_chore(_now) -> int:
    """The engine's sweep (in the worker): replay what is waiting; how many were done."""
    return pending_writes_replay()
