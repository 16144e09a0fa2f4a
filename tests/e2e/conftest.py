"""The running stack for the end-to-end suite: once with PostgreSQL + Redis, once with SQLite + files."""
from __future__ import annotations

import pytest

from tests.e2e.n8n_standin import N8nStandIn
from tests.e2e.stack import Stack


@pytest.fixture(autouse=True)
def gateway_settings():
    """The processes read their own environment; the in-process settings fixture does not apply."""
    yield


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def n8n_and_stack(request, tmp_path_factory):
    n8n = N8nStandIn().start()
    stack = Stack(tmp_path_factory.mktemp(f"e2e-{request.param}"), flavour=request.param, n8n_url=n8n.url)
    stack.start()
    yield n8n, stack
    stack.stop()
    n8n.stop()


@pytest.fixture
def n8n(n8n_and_stack):
    standin = n8n_and_stack[0]
    standin.failing = False
    return standin


@pytest.fixture
def stack(n8n_and_stack):
    return n8n_and_stack[1]
