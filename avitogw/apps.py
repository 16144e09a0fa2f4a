"""App config of the project package itself: its management commands, DATA_DIR's folders (private) at start-up, and
the sweep's replay of writes kept while the database was unreachable."""
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings

from avitogw.private_data import data_dir_private


def sqlite_folder() -> list[Path]:
    """The folder of the SQLite database file, if the database is one (SQLite makes the file, not its folder)."""
    database = settings.DATABASES["default"]
    name = str(database.get("NAME") or "")
    if database["ENGINE"] != "django.db.backends.sqlite3" or name in ("", ":memory:") or name.startswith("file:"):
        return []
    return [Path(name).parent]


class GatewayConfig(AppConfig):
    name = "avitogw"
    verbose_name = "avitogw"

    def ready(self) -> None:
        # Made here, at start-up of every process (web, worker, beat, manage.py), never when the settings
        # are imported. Each comes before its first use: the metrics folder before a count (core.metrics),
        # the database's folder before the first connection, STATIC_ROOT before whitenoise's middleware is
        # built (it warns about a missing one on every start while collectstatic has not run). First of all the
        # process's umask, so every file and folder it makes from here on is its user's alone.
        data_dir_private(Path(settings.DATA_DIR))
        for folder in (settings.METRICS_DIR, settings.STATIC_ROOT, settings.PENDING_WRITES_DIR, *sqlite_folder()):
            Path(folder).mkdir(parents=True, exist_ok=True)
        # The worker replays writes kept while the database was unreachable on every sweep.
        from core.pending_writes import pending_writes_chore
        from core.work.sweep import register_chore

        register_chore("kept writes done", pending_writes_chore)
