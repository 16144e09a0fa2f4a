"""`python -m avitogw.launcher`: the Procfile's web, worker and beat together, as ./run.sh starts them.

It is honcho (`honcho start -f Procfile -e /dev/null`), stopping the processes the way a
supervisor should, so Ctrl-C ends all three cleanly:

- SIGTERM goes to each program only (the Procfile `exec`s it, so honcho holds its pid), not to
  its whole process group as honcho does: gunicorn's master and Celery's main process then stop
  their own workers warm. Sent to the group, Celery's pool processes died mid-task (Celery logs
  an ERROR for each), and the main process's warm shutdown ran past honcho's patience.
- SIGKILL (to the group) only after 35 s, gunicorn's graceful_timeout and a margin, instead of
  honcho's 5 s: a warm shutdown finishing an Avito call (a rate-limit slot, its timeout) must
  not be cut short. The processes normally end within a few seconds; see docs/operations.md.

`-e /dev/null`: every process reads `.env` itself (core/environment.py), where a variable set in
the real environment wins over the file; honcho's own loading would do it the other way round.
"""
from __future__ import annotations

import errno
import os
import signal
import sys

from honcho import command, compat, manager

SHUTDOWN_GRACE = 35  # seconds: gunicorn's graceful_timeout (30) and a margin


class ProgramsOnly(compat.ProcessManager):
    def terminate(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ESRCH):
                raise


def main(argv: list[str] | None = None) -> None:
    manager.ProcessManager = ProgramsOnly  # what honcho's Manager builds its process manager from
    manager.KILL_WAIT = SHUTDOWN_GRACE  # read by honcho's loop at shutdown
    command.main(["start", "-f", "Procfile", "-e", "/dev/null", *(argv or [])])


if __name__ == "__main__":
    main(sys.argv[1:])
