"""The one engine for background work: leases, heartbeat, backoff, wake-ups and the sweep.

Every piece of background work (incoming events, deliveries to n8n, bulk items, bulk
callbacks, and whatever comes next) is a row with a status, and this engine moves rows:

- `leases`: a worker claims a row with a conditional UPDATE that writes a lease (an owner
  token and an expiry) and checks the count; it finishes with an UPDATE fenced on that
  owner, so a worker whose lease was taken back cannot overwrite what the next one wrote.
- `heartbeat`: while a worker holds leases, one thread per process renews them every
  RENEW_EVERY seconds; a worker that dies stops renewing, and its leases run out in LEASE.
- `backoff`: the one retry schedule (exponential, with jitter, capped).
- `wakeups`: services wake a task by its NAME after their transaction commits, so they
  never import tasks (imports point one way: tasks -> services -> models).
- `sweep`: one beat task that takes back expired leases and re-wakes whatever is due,
  for every kind of work an app registered (`sweep.register`).

The rows are the source of truth; Celery messages are only wake-up calls. Every retry policy of the
gateway (attempts, backoff, what happens after) is listed in docs/operations.md, "Retries".
"""
