"""The names an operator reads are the names the gateway exports: docs/operations.md documents every
metric, and the Grafana dashboard and the example alert rules use only metrics that exist."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from prometheus_client import Counter, Histogram

from core import metrics

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\bavitogw_[a-z0-9_]+")
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def exported() -> set[str]:
    """Every family: the counters and histograms of core.metrics, the gauges of a scrape."""
    names = {value._name for value in vars(metrics).values() if isinstance(value, (Counter, Histogram))}
    scrape = Client().get("/metrics").content.decode()
    names |= {line.split()[2] for line in scrape.splitlines() if line.startswith("# TYPE avitogw_")}
    names.add("avitogw_avito_token_expires_in_seconds")  # only once a token exists
    names.add("avitogw_reconcile_last_success_age_seconds")  # only once a reconciliation run succeeded
    names.add("avitogw_reconcile_lag_seconds")  # only once reconciliation has a watermark
    return {_family(name) for name in names}


def _family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_every_metric_is_documented():
    documented = {_family(name) for name in NAME.findall((ROOT / "docs" / "operations.md").read_text())}
    assert exported() - documented == set()


def test_the_docs_name_no_metric_that_does_not_exist():
    used = {_family(name) for name in NAME.findall((ROOT / "docs" / "operations.md").read_text())}
    assert used - exported() == set()


def test_the_dashboard_uses_only_real_metrics_and_shows_the_main_ones():
    dashboard = json.loads((ROOT / "examples" / "grafana" / "avitogw-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {_family(name) for expr in exprs for name in NAME.findall(expr)}
    assert used - exported() == set()
    assert {"avitogw_webhook_events", "avitogw_n8n_deliveries", "avitogw_avito_requests",
            "avitogw_n8n_delivery_backlog", "avitogw_avito_token_expires_in_seconds",
            "avitogw_reconcile_runs", "avitogw_reconcile_messages_found",
            "avitogw_reconcile_last_success_age_seconds"} <= used
