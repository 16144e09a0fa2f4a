"""The kernel every app stands on; it imports no app (roof avitogw -> apps -> core).

`work/` the background-work engine (leases, heartbeat, backoff, wake-ups, sweep), `n8n/` the
n8n client and signing, `errors` the gateway's error types and the JSON envelope, `logs` and
`log_redaction`, `metrics`, `environment` (the .env reader the settings use), `json_input`,
`url_guard`, `request_id`, `broker` (the SQLite Celery transport), `admin` (the read-only
admin base), `singleton` (one object per process) and `api/` (the toolkit every app's API uses).
"""
