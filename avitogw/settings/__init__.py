"""The settings module Django and Celery load (`avitogw.settings`): `.env`, then one environment's settings.

AVITOGW_ENV (the gateway's own variable, declared in base.py) picks the module:
`production` (the default; ./run.sh and docker compose), `local` (a developer practising
with the sandbox: DEBUG on) or `test` (always under pytest). Each of them starts from base.py, where
every contract variable is declared.
"""
from pathlib import Path

from core import environment as config

# Before base.py reads anything: real environment variables still win over the file.
config.load_env_file(Path(__file__).resolve().parents[2] / ".env")

from avitogw.settings.base import AVITOGW_ENV  # noqa: E402 (reads the environment `.env` just completed)

if AVITOGW_ENV == "local":
    from avitogw.settings.local import *  # noqa: E402,F403
elif AVITOGW_ENV == "test":
    from avitogw.settings.test import *  # noqa: E402,F403
else:
    from avitogw.settings.production import *  # noqa: E402,F403
