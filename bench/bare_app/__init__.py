"""A bare Django view returning {"ok": true}: the yardstick the webhook endpoint is measured against.

Same settings, middleware and gunicorn config as the gateway (`settings.py` only swaps the
URLconf), so the difference between the two is the gateway's own work: parsing, storing
the event, queueing its processing.
"""
