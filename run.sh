#!/usr/bin/env bash
# The README's run command: set up what is missing, then run web, worker and beat together.
#
#   ./run.sh
#
# On a fresh machine it creates .venv, installs requirements/prod.txt, writes .env from
# .env.example with a generated SECRET_KEY, API_KEY and AVITO_WEBHOOK_SECRET, migrates the database (SQLite in data/ unless
# DATABASE_URL says otherwise), collects static files, and hands over to honcho, which runs
# the Procfile: gunicorn, a Celery worker and Celery beat. Ctrl-C stops all three.
# Later runs skip whatever is already done. PYTHON picks the interpreter (default python3).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv
say() { printf '\033[1mrun.sh:\033[0m %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { say "Python 3.11 or newer is needed ($PYTHON is $("$PYTHON" -V 2>&1)); set PYTHON=..."; exit 1; }
  say "creating the virtualenv in $VENV"
  "$PYTHON" -m venv "$VENV"
fi

# Install only when the requirements changed since the last successful install.
stamp="$VENV/.requirements.sha256"
wanted=$(cat requirements/base.txt requirements/prod.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  say "installing requirements/prod.txt"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements/prod.txt
  echo "$wanted" > "$stamp"
fi

if [ ! -f .env ]; then
  # Secure by default: a new .env gets its own SECRET_KEY, API_KEY and AVITO_WEBHOOK_SECRET, so /api/* is
  # closed to strangers and /webhook/avito takes notifications only on its secret path from the first start.
  secret=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))')
  api_key=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')
  webhook_secret=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')
  encryption_key=$("$VENV/bin/python" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
  (
    umask 077  # the file holds secrets: readable by its owner only, from its first byte
    if [ -f .env.example ]; then
      sed -e "s|^SECRET_KEY=.*|SECRET_KEY=$secret|" -e "s|^API_KEY=.*|API_KEY=$api_key|" \
        -e "s|^AVITO_WEBHOOK_SECRET=.*|AVITO_WEBHOOK_SECRET=$webhook_secret|" \
        -e "s|^ENCRYPTION_KEYS=.*|ENCRYPTION_KEYS=$encryption_key|" .env.example > .env
    else
      printf 'SECRET_KEY=%s\nAPI_KEY=%s\nAVITO_WEBHOOK_SECRET=%s\nENCRYPTION_KEYS=%s\n' "$secret" "$api_key" \
        "$webhook_secret" "$encryption_key" > .env
    fi
  )
  say "wrote .env with a new SECRET_KEY, API_KEY, AVITO_WEBHOOK_SECRET and ENCRYPTION_KEYS: fill in AVITO_CLIENT_ID, AVITO_CLIENT_SECRET, AVITO_USER_ID there"
  say "every /api/* call needs the header X-API-Key; read the key with: grep API_KEY .env"
elif [ -z "${AVITO_WEBHOOK_SECRET:-}" ] && ! grep -Eq '^[[:space:]]*AVITO_WEBHOOK_SECRET=[[:space:]]*[^[:space:]#]' .env; then
  # An existing .env is never rewritten (it is the operator's file); its missing secret is said out loud.
  say "WARNING: .env has no AVITO_WEBHOOK_SECRET. Under production settings the gateway then refuses every"
  say "  notification from Avito (404 on /webhook/avito). Set it in .env to a long random value, e.g. the output of"
  say "  python3 -c 'import secrets; print(secrets.token_urlsafe(32))', restart, then POST /api/webhook/subscribe."
fi
if [ -f .env ] && [ -z "${ENCRYPTION_KEYS:-}" ] && ! grep -Eq '^[[:space:]]*ENCRYPTION_KEYS=[[:space:]]*[^[:space:]#]' .env; then
  # Not needed for the environment's account (its secret stays in .env), only to add other accounts.
  say "WARNING: .env has no ENCRYPTION_KEYS: accounts other than 'default' cannot be added until it is set."
  say "  Generate one with: $VENV/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
fi

export PATH="$PWD/$VENV/bin:$PATH"
python manage.py migrate --noinput
python manage.py collectstatic --noinput --verbosity 0
python manage.py metrics_reset  # /metrics counts from this start; nothing of the group runs yet

address=$(python - <<'EOF'
from pathlib import Path

from core import environment as config

config.load_env_file(Path(".env"))
host = config.read_str("SERVER_HOST", "0.0.0.0")
port = config.read_int("SERVER_PORT", 8765, minimum=1)
print(f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}")
EOF
)
say "starting web, worker and beat (Ctrl-C stops all three)"
say "  API docs:  $address/docs"
say "  admin:     $address/admin/   (first: $VENV/bin/python manage.py createsuperuser)"

# honcho with the Procfile, given time for a warm shutdown on Ctrl-C (avitogw/launcher.py).
exec python -m avitogw.launcher
