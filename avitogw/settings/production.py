"""Settings of a running shop (AVITOGW_ENV=production, the default): ./run.sh, docker compose, a bare gunicorn.

Only what base.py declares, held to production's rule: a missing or placeholder SECRET_KEY
stops start-up unless DEBUG is explicitly on, and a SECRET_KEY shorter than 32 characters
always does. Without AVITO_WEBHOOK_SECRET the webhook refuses every notification (404): the
rest of the gateway runs, and the web process's log and /health say why (avitogw.startup).
The sandbox is in no settings module, and the Docker image leaves `sandbox/` out (.dockerignore).
"""
from avitogw.settings.base import *  # noqa: F403
from avitogw.settings.base import DEBUG, SECRET_KEY, SECRET_KEY_MIN_LENGTH, secret_key_checked

SECRET_KEY = secret_key_checked(SECRET_KEY, placeholder_allowed=DEBUG, minimum_length=SECRET_KEY_MIN_LENGTH)
WEBHOOK_SECRET_REQUIRED = True
