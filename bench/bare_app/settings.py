"""The gateway's settings exactly, with a URLconf of bare views instead of the gateway's routes."""
from avitogw.settings import *

ROOT_URLCONF = "bench.bare_app.urls"
