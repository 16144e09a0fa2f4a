"""Reading `/metrics` in the tests: one sample's value by name and labels, from the Prometheus text."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(text: str, name: str, **labels) -> float:
    """The sample's value, 0 when it is not there (a counter nobody has counted yet)."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)
