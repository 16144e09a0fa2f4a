"""Settings of a developer's machine (AVITOGW_ENV=local): practising against the Avito sandbox.

DEBUG is on unless DEBUG says otherwise (base.py), so ALLOWED_HOSTS defaults to `*` and a
placeholder SECRET_KEY is accepted; `manage.py avito_sandbox` is available.
"""
from avitogw.settings.base import *  # noqa: F403
from avitogw.settings.base import DEBUG, INSTALLED_APPS, SECRET_KEY, secret_key_checked

SECRET_KEY = secret_key_checked(SECRET_KEY, placeholder_allowed=DEBUG)
# The sandbox's app only hosts its management command; `python -m sandbox.server` needs no Django.
INSTALLED_APPS = [*INSTALLED_APPS, "sandbox"]
