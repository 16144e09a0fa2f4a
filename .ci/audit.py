"""CI's dependency audit: pip-audit for requirements/prod.txt, `npm audit --omit=dev` for the n8n node package.

Each audit ends in one of three ways (docs/security.md, "Dependency audit"):
- clean: one line;
- a known vulnerability: every advisory listed, and the exit status is 1, so CI fails;
- the advisory service could not be reached or did not answer (a machine without internet, a
  registry mirror without the audit endpoint): a loud line naming what was not audited, and CI goes
  on. pip-audit reports "No known vulnerabilities found" even when it could look up no package at
  all (each is only "skipped"), so a skip is counted as not audited, never as clean.
An audit that breaks for another reason (a bad requirements file) fails CI too.

Run by .ci/run with the test virtualenv's Python (pip-audit is pinned in requirements/dev.txt).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_PACKAGE = ROOT / "integrations" / "n8n-nodes-avitogw"

# Advisories known not to affect the gateway: id (PYSEC-..., GHSA-..., CVE-...) -> why. Empty today.
IGNORED_ADVISORIES: dict[str, str] = {}

# Words of a failure to reach a service, as pip-audit and npm print them.
UNREACHABLE = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out", "Timeout",
               "ServiceError", "ENOTFOUND", "ECONNREFUSED", "EAI_AGAIN", "ETIMEDOUT", "audit endpoint returned an error",
               "Temporary failure in name resolution", "Network is unreachable")


@dataclass
class Outcome:
    name: str
    vulnerabilities: list[str] = field(default_factory=list)  # one line per advisory
    not_audited: str = ""  # why the audit did not run (or not for everything), when it did not
    broken: str = ""  # the audit failed for a reason that is not the service

    def failed(self) -> bool:
        return bool(self.vulnerabilities or self.broken)


def _unreachable(text: str) -> bool:
    return any(word in text for word in UNREACHABLE)


def pip_audit_outcome(report: dict | None, returncode: int, stderr: str) -> Outcome:
    """What pip-audit's JSON report (None when it wrote none), exit status and stderr say."""
    outcome = Outcome("pip-audit requirements/prod.txt")
    if report is None:
        if _unreachable(stderr):
            outcome.not_audited = "the advisory service or the package index could not be reached"
        else:
            outcome.broken = f"pip-audit failed (exit {returncode}): {stderr.strip()[-800:]}"
        return outcome
    dependencies = report.get("dependencies", [])
    for dependency in dependencies:
        for vulnerability in dependency.get("vulns", []):
            if {vulnerability["id"], *vulnerability.get("aliases", [])} & set(IGNORED_ADVISORIES):
                continue
            fixed = ", ".join(vulnerability.get("fix_versions", [])) or "no fixed version yet"
            outcome.vulnerabilities.append(f"{dependency['name']} {dependency.get('version', '')}: "
                                           f"{vulnerability['id']} (fixed in {fixed})")
    skipped = [dependency["name"] for dependency in dependencies if dependency.get("skip_reason")]
    if skipped:
        outcome.not_audited = (f"the advisory service gave no answer for {len(skipped)} of {len(dependencies)} "
                               f"packages ({', '.join(skipped[:5])}{', ...' if len(skipped) > 5 else ''})")
    elif returncode != 0 and not any(dependency.get("vulns") for dependency in dependencies):
        outcome.broken = f"pip-audit failed (exit {returncode}): {stderr.strip()[-800:]}"
    return outcome


def npm_audit_outcome(report: dict | None, returncode: int, stderr: str) -> Outcome:
    """What `npm audit --json`'s report, exit status and stderr say."""
    outcome = Outcome("npm audit --omit=dev (integrations/n8n-nodes-avitogw)")
    if report is None or "error" in report:
        text = stderr + json.dumps(report or {})
        if _unreachable(text) or "statusCode" in text:
            outcome.not_audited = "the registry's advisory endpoint could not be reached or did not answer"
        else:
            outcome.broken = f"npm audit failed (exit {returncode}): {text.strip()[-800:]}"
        return outcome
    for name, entry in sorted(report.get("vulnerabilities", {}).items()):
        for via in entry.get("via", []):
            if not isinstance(via, dict):  # the name of a dependency whose own advisory is listed under it
                continue
            advisory = str(via.get("url", "")).rsplit("/", 1)[-1]
            if advisory in IGNORED_ADVISORIES:
                continue
            outcome.vulnerabilities.append(f"{name}: {advisory or via.get('title')} ({via.get('severity')}), "
                                           f"{via.get('title', '')}")
    return outcome


def _json(text: str) -> dict | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def run_pip_audit() -> Outcome:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "report.json"
        ignored = [arg for advisory in IGNORED_ADVISORIES for arg in ("--ignore-vuln", advisory)]
        finished = subprocess.run([sys.executable, "-m", "pip_audit", "-r", str(ROOT / "requirements" / "prod.txt"),
                                   "--format", "json", "--output", str(output), "--progress-spinner", "off",
                                   "--timeout", "30", *ignored], capture_output=True, text=True, timeout=1200)
        report = _json(output.read_text()) if output.exists() else None
    return pip_audit_outcome(report, finished.returncode, finished.stderr)


def run_npm_audit() -> Outcome:
    finished = subprocess.run(["npm", "audit", "--omit=dev", "--json"], cwd=NODE_PACKAGE, capture_output=True,
                              text=True, timeout=300)
    return npm_audit_outcome(_json(finished.stdout), finished.returncode, finished.stderr)


def report(outcomes: list[Outcome]) -> int:
    for outcome in outcomes:
        for line in outcome.vulnerabilities:
            print(f"ci: audit: VULNERABLE: {outcome.name}: {line}")
        if outcome.broken:
            print(f"ci: audit: FAILED: {outcome.name}: {outcome.broken}")
        if outcome.not_audited:
            print(f"ci: audit: NOT AUDITED: {outcome.name}: {outcome.not_audited}. "
                  "Nothing is known about its advisories; CI goes on without them.")
        if not (outcome.failed() or outcome.not_audited):
            print(f"ci: audit: {outcome.name}: no known vulnerabilities")
    return 1 if any(outcome.failed() for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(report([run_pip_audit(), run_npm_audit()]))
