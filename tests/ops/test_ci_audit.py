"""CI's dependency audit (.ci/audit.py): a known vulnerability fails, an advisory service that gives no
answer is said out loud and fails nothing, and a skipped package is never taken for a clean one.

The reports are pip-audit's and npm's JSON as they print them; the real run is .ci/run's.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
audit = importlib.util.module_from_spec(spec)
sys.modules["ci_audit"] = audit  # its dataclasses look their module up while being made
spec.loader.exec_module(audit)

CLEAN = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}], "fixes": []}
VULNERABLE = {"dependencies": [{"name": "django", "version": "5.2.1", "vulns": [
    {"id": "PYSEC-2025-1", "fix_versions": ["5.2.2"], "aliases": ["CVE-2025-0001"], "description": "x"}]}]}
# What pip-audit writes (exit 0, "No known vulnerabilities found") when PyPI's JSON API does not answer.
SKIPPED = {"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI and could not be "
                                                              "audited: django (5.2.19)"}], "fixes": []}
NPM_CLEAN = {"auditReportVersion": 2, "vulnerabilities": {}, "metadata": {"vulnerabilities": {"total": 0}}}
NPM_VULNERABLE = {"auditReportVersion": 2, "vulnerabilities": {"form-data": {"severity": "critical", "via": [
    {"source": 1, "title": "unsafe random boundary", "url": "https://github.com/advisories/GHSA-fjxv-7rqg-78g4",
     "severity": "critical"}]}, "axios": {"severity": "critical", "via": ["form-data"]}}}
NPM_UNREACHABLE = {"message": "405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk",
                   "statusCode": 405, "error": {"summary": "audit endpoint returned an error"}}


def test_a_clean_report_passes():
    assert audit.report([audit.pip_audit_outcome(CLEAN, 0, ""), audit.npm_audit_outcome(NPM_CLEAN, 0, "")]) == 0


def test_a_known_vulnerability_fails_and_is_listed(capsys):
    outcomes = [audit.pip_audit_outcome(VULNERABLE, 1, ""), audit.npm_audit_outcome(NPM_VULNERABLE, 1, "")]
    assert audit.report(outcomes) == 1
    printed = capsys.readouterr().out
    assert "VULNERABLE: pip-audit requirements/prod.txt: django 5.2.1: PYSEC-2025-1 (fixed in 5.2.2)" in printed
    assert "form-data: GHSA-fjxv-7rqg-78g4 (critical)" in printed
    assert "axios" not in printed  # listed under the dependency that has the advisory


def test_an_ignored_advisory_does_not_fail(monkeypatch):
    monkeypatch.setattr(audit, "IGNORED_ADVISORIES", {"CVE-2025-0001": "only the admin's X, which we do not use"})
    assert audit.report([audit.pip_audit_outcome(VULNERABLE, 1, "")]) == 0


def test_skipped_packages_are_not_audited_not_clean(capsys):
    assert audit.report([audit.pip_audit_outcome(SKIPPED, 0, "No known vulnerabilities found")]) == 0
    printed = capsys.readouterr().out
    assert "NOT AUDITED: pip-audit requirements/prod.txt: the advisory service gave no answer for 1 of 1" in printed
    assert "no known vulnerabilities" not in printed


@pytest.mark.parametrize("outcome", [
    lambda: audit.pip_audit_outcome(None, 1, "requests.exceptions.ConnectionError: HTTPSConnectionPool(host="
                                             "'api.osv.dev'): Max retries exceeded (NameResolutionError)"),
    lambda: audit.npm_audit_outcome(NPM_UNREACHABLE, 1, "npm error audit endpoint returned an error"),
    lambda: audit.npm_audit_outcome(None, 1, "npm error code ENOTFOUND"),
])
def test_an_unreachable_service_is_said_and_fails_nothing(capsys, outcome):
    assert audit.report([outcome()]) == 0
    assert "NOT AUDITED" in capsys.readouterr().out


def test_an_audit_that_breaks_for_another_reason_fails(capsys):
    broken = audit.pip_audit_outcome(None, 1, "ERROR: Invalid requirement: 'django=='")
    assert audit.report([broken]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_ci_runs_the_audit_and_dev_requirements_pin_pip_audit():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".venv/bin/python .ci/audit.py" in ci and ci.index(".ci/audit.py") < ci.index("./test.sh")
    assert any(line.startswith("pip-audit==") for line in (ROOT / "requirements" / "dev.txt").read_text().splitlines())
