"""The n8n node package in integrations/n8n-nodes-avitogw: where it is, and building it for the tests."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "integrations" / "n8n-nodes-avitogw"
DIST = PACKAGE / "dist"
SOURCES = ("credentials", "nodes", "icons", "package.json", "tsconfig.json")


def _newest_source() -> float:
    files = [p for name in SOURCES for p in ([PACKAGE / name] if (PACKAGE / name).is_file()
                                             else (PACKAGE / name).rglob("*"))]
    return max(p.stat().st_mtime for p in files if p.is_file())


def _built_at() -> float:
    marks = list(DIST.rglob("*.js"))
    return min(p.stat().st_mtime for p in marks) if marks else 0.0


def build_reason() -> str | None:
    """Why the package cannot be built here, or None when it can."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "Node.js and npm are not installed"
    if not (PACKAGE / "node_modules").is_dir() and not DIST.is_dir():
        return f"the package is not built: run `npm ci && npm run build` in {PACKAGE.relative_to(ROOT)}"
    return None


def ensure_built(*, install: bool = False) -> Path:
    """dist/, rebuilt when a source is newer; with `install`, `npm ci` first if node_modules is missing."""
    if install and not (PACKAGE / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PACKAGE, check=True, capture_output=True,
                       timeout=900)
    if (PACKAGE / "node_modules").is_dir() and _built_at() < _newest_source():
        completed = subprocess.run(["npm", "run", "build"], cwd=PACKAGE, capture_output=True, text=True,
                                   timeout=300)
        assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return DIST
