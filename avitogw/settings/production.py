"""Settings of a running shop (AVITOGW_ENV=production, the default): ./run.sh, docker compose, a bare gunicorn.

Only what base.py declares, held to production's rule: a missing or placeholder SECRET_KEY
stops start-up unless DEBUG is explicitly on. The sandbox is in no settings module, and the
Docker image leaves `sandbox/` out (.dockerignore).
"""
from avitogw.settings.base import *  # noqa: F403
from avitogw.settings.base import DEBUG, SECRET_KEY, secret_key_checked

SECRET_KEY = secret_key_checked(SECRET_KEY, placeholder_allowed=DEBUG)
