#!/usr/bin/env bash
# The README's test command: makes the venv if missing, installs requirements/dev.txt, runs pytest.
# Tests marked redis/postgres use the servers on 127.0.0.1:6379 and :5432 (started by .ci/run in CI).
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
exec .venv/bin/python -m pytest "$@"
