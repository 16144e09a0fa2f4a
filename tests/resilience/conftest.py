"""Fixtures of the resilience tests: real processes, so the in-process settings fixture does not apply."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def gateway_settings():
    """The processes read their own environment."""
    yield
