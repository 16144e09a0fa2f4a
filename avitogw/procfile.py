"""`python -m avitogw.procfile`: the Procfile's web, worker and beat together, as ./run.sh starts them.

It is honcho (`honcho start -f Procfile -e /dev/null`), with one change: on Ctrl-C honcho sends
SIGTERM to each process and, 5 s later, SIGKILL to whatever still runs. A warm shutdown can take
longer than that (a task finishing an Avito call that waits for its rate-limit slot and its
timeout; gunicorn finishing its requests), and a SIGKILL there is what the warm shutdown exists
to avoid, so the processes get as long as gunicorn's graceful_timeout. They normally end within
a few seconds; see docs/operations.md.

`-e /dev/null`: every process reads `.env` itself (avitogw/config.py), where a variable set in
the real environment wins over the file; honcho's own loading would do it the other way round.
"""
from __future__ import annotations

import sys

from honcho import command, manager

SHUTDOWN_GRACE = 35  # seconds: gunicorn's graceful_timeout (30) and a margin


def main(argv: list[str] | None = None) -> None:
    manager.KILL_WAIT = SHUTDOWN_GRACE  # read by honcho's loop at shutdown
    command.main(["start", "-f", "Procfile", "-e", "/dev/null", *(argv or [])])


if __name__ == "__main__":
    main(sys.argv[1:])
