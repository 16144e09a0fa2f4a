"""Run by test_multiprocess as `python -m tests.avito.helpers.token_worker`.

Builds the Avito client from the environment, says `ready`, and on each `go` line from
stdin asks the shared token store for a token and prints it: first `get` (the store is
empty, as on a fresh start), then `refresh` of that token (as after Avito's 403).
"""
import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avitogw.settings")
    django.setup()
    import messenger.avito
    from messenger.avito import get_client

    messenger.avito.REDIS_PREFIX = os.environ.get("TEST_REDIS_PREFIX", messenger.avito.REDIS_PREFIX)

    store = get_client().transport.token_store
    print("ready", flush=True)
    sys.stdin.readline()
    token = store.get().access_token
    print(token, flush=True)
    sys.stdin.readline()
    print(store.refresh(stale=token).access_token, flush=True)


if __name__ == "__main__":
    main()
