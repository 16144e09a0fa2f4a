"""DATA_DIR is the gateway's user's alone: folders 0700, files 0600, whatever the shell's umask.

The SQLite database holds Avito's access token, the admin's sessions and every conversation;
the broker's file holds tasks, the metrics folder the counts, beat's file its schedule. Each
process sets its umask to PRIVATE_UMASK at start-up (GatewayConfig.ready, which manage.py,
gunicorn's workers and the Celery worker and beat all run before they open a file there), so
whatever it creates is private from its first byte. DATA_DIR itself is made 0700, and one made
readable by others before (an older version, a `mkdir` by hand) is closed when it is the
user's own, which also closes the files already in it.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077


def data_dir_private(data_dir: Path) -> None:
    os.umask(PRIVATE_UMASK)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = data_dir.stat()
    if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.getuid():
        data_dir.chmod(stat.S_IMODE(info.st_mode) & 0o700)
        logger.warning("DATA_DIR %s was open to other users; it is now the gateway's user's alone (0700)", data_dir)
