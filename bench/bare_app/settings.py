"""The gateway's settings exactly, with a URLconf of bare views instead of the gateway's routes."""
from avitogw.settings import *  # noqa: F401,F403 (everything, so middleware and database are the same)

ROOT_URLCONF = "bench.bare_app.urls"
