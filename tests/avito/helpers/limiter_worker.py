"""Run by test_multiprocess as `python -m tests.avito.helpers.limiter_worker COUNT`.

Builds the Avito client from the environment exactly as the gateway does, says `ready`,
waits for `go` on stdin so every process starts together, then takes COUNT slots of the
shared rate limiter and prints their grant times (the store's own clock) as JSON.
"""
import json
import os
import sys

import django


def main() -> None:
    count = int(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avitogw.settings")
    django.setup()
    import messenger.avito
    from messenger.avito import get_client

    messenger.avito.REDIS_PREFIX = os.environ.get("TEST_REDIS_PREFIX", messenger.avito.REDIS_PREFIX)

    limiter = get_client().transport.rate_limiter
    print("ready", flush=True)
    sys.stdin.readline()
    grants = [limiter.acquire(timeout=60) for _ in range(count)]
    print(json.dumps(grants), flush=True)


if __name__ == "__main__":
    main()
