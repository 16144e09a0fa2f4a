"""`./run.sh` on a fresh checkout writes a `.env` with its own SECRET_KEY, API_KEY and AVITO_WEBHOOK_SECRET,
says how to read the key, and never rewrites an existing `.env` (it warns when that one has no webhook secret).

The script runs for real in a copy of the checkout's top level; only the slow or long-running
steps are stand-ins: the virtualenv (a `python` that runs this one), `manage.py` and the processes.
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _checkout(tmp_path: Path) -> Path:
    top = tmp_path / "gw"
    top.mkdir(parents=True)
    for name in ("run.sh", ".env.example"):
        shutil.copy2(ROOT / name, top / name)
    shutil.copytree(ROOT / "requirements", top / "requirements")
    for package in ("avitogw", "core"):  # run.sh reads the environment through core.environment
        (top / package).symlink_to(ROOT / package)
    bin_dir = top / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    # The real interpreter, except for the last step, which would start web, worker and beat.
    _script(bin_dir / "python", '#!/bin/sh\n[ "$*" = "-m avitogw.launcher" ] && { echo "starting $*"; exit 0; }\n'
                                f'exec {sys.executable} "$@"\n')
    _script(top / "manage.py", "import sys\nprint('manage.py', *sys.argv[1:])\n")
    wanted = subprocess.run(f"cat requirements/base.txt requirements/prod.txt | sha256sum | cut -d' ' -f1",
                            shell=True, cwd=top, capture_output=True, text=True, check=True).stdout
    (top / ".venv" / ".requirements.sha256").write_text(wanted)
    return top


def _run(top: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("API_KEY", "SECRET_KEY", "AVITO_WEBHOOK_SECRET",
                                                                  "ENCRYPTION_KEYS")}
    return subprocess.run(["bash", "run.sh"], cwd=top, env=env, capture_output=True, text=True, timeout=120)


def _values(env_file: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line
                and not line.startswith("#"))


def test_a_fresh_run_writes_an_api_key_and_says_how_to_read_it(tmp_path):
    top = _checkout(tmp_path)
    result = _run(top)
    assert result.returncode == 0, result.stderr
    assert "starting -m avitogw.launcher" in result.stdout  # it got all the way to starting the processes
    values = _values(top / ".env")
    assert len(values["API_KEY"]) >= 32 and len(values["SECRET_KEY"]) >= 50
    assert values["API_KEY"] != values["SECRET_KEY"]
    assert len(values["AVITO_WEBHOOK_SECRET"]) >= 32
    assert values["AVITO_WEBHOOK_SECRET"] not in (values["API_KEY"], values["SECRET_KEY"])
    assert "grep API_KEY .env" in result.stdout
    assert "WARNING" not in result.stdout
    for secret in (values["API_KEY"], values["AVITO_WEBHOOK_SECRET"]):
        assert secret not in result.stdout + result.stderr  # shown how to read, not printed
    assert stat.S_IMODE((top / ".env").stat().st_mode) == 0o600


def test_two_fresh_checkouts_get_different_keys_and_an_existing_env_is_kept(tmp_path):
    first, second = _checkout(tmp_path / "a"), _checkout(tmp_path / "b")
    assert _run(first).returncode == 0 and _run(second).returncode == 0
    assert _values(first / ".env")["API_KEY"] != _values(second / ".env")["API_KEY"]
    before = (first / ".env").read_text()
    again = _run(first)
    assert again.returncode == 0
    assert (first / ".env").read_text() == before
    assert "grep API_KEY" not in again.stdout


def test_an_existing_env_without_a_webhook_secret_is_kept_and_warned_about(tmp_path):
    top = _checkout(tmp_path)
    old = "SECRET_KEY=" + "o" * 50 + "\nAPI_KEY=old-key\nAVITO_WEBHOOK_SECRET=\n"
    (top / ".env").write_text(old)
    result = _run(top)
    assert result.returncode == 0, result.stderr
    assert (top / ".env").read_text() == old
    assert "WARNING: .env has no AVITO_WEBHOOK_SECRET" in result.stdout
    assert "refuses every" in result.stdout and "starting -m avitogw.launcher" in result.stdout
    (top / ".env").write_text(old.replace("AVITO_WEBHOOK_SECRET=", "AVITO_WEBHOOK_SECRET=set-by-hand-0123456789"))
    assert "AVITO_WEBHOOK_SECRET" not in _run(top).stdout


def test_a_fresh_env_gets_an_encryption_key_and_an_old_one_without_it_is_warned_about(tmp_path):
    from cryptography.fernet import Fernet

    top = _checkout(tmp_path)
    result = _run(top)
    key = _values(top / ".env")["ENCRYPTION_KEYS"]
    Fernet(key.encode())  # a real Fernet key: the accounts' secrets can be encrypted from the first start
    assert key not in result.stdout + result.stderr and "ENCRYPTION_KEYS" in result.stdout
    old = "SECRET_KEY=" + "o" * 50 + "\nAPI_KEY=old-key\nAVITO_WEBHOOK_SECRET=set-by-hand-0123456789\n"
    (top / ".env").write_text(old)
    warned = _run(top)
    assert warned.returncode == 0 and (top / ".env").read_text() == old
    assert "WARNING: .env has no ENCRYPTION_KEYS" in warned.stdout
