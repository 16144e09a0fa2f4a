"""Bulk sends: many messages as one job, sent by workers within the shared rate limit.

The app owns its models (jobs and items), admin, services, Celery tasks and API; it uses
messenger's send services and the n8n client in core.n8n. No other app imports it; only the
project package does (its URLs, the admin status board and the metrics collector).
"""
