"""Every metric definition and every fact family is named in English, Russian and Chinese (lifecycle/facts/names.py).

The grounding verifier resolves what a plan sentence is about from these names, so a metric without a Russian or
Chinese name could never be told apart from its neighbours in a Russian or Chinese plan.
"""

from __future__ import annotations

import re

import pytest

from lifecycle.facts.names import KEY_NAMES, LANGUAGES, METRIC_NAMES, fact_names, family_examples
from lifecycle.metrics.registry import registry
from lifecycle.stages.drivers import DEFAULT_SIGNALS


@pytest.mark.parametrize("metric_id", sorted(registry()))
def test_every_metric_definition_has_names_in_all_three_languages(metric_id: str) -> None:
    names = registry()[metric_id].names
    assert names.complete(), f"{metric_id}: {names}"
    assert re.search(r"[а-яё]", " ".join(names.ru), re.I) or any(n.isupper() for n in names.ru)  # Russian, or an acronym like MRR
    assert re.search(r"[\u4e00-\u9fff]", " ".join(names.zh)) or any(n.isupper() for n in names.zh)


def test_the_names_table_has_no_metric_the_registry_does_not_know() -> None:
    assert set(METRIC_NAMES) == set(registry())


@pytest.mark.parametrize("fact_id", family_examples())
def test_every_fact_family_has_names_in_all_three_languages(fact_id: str) -> None:
    assert fact_names(fact_id).complete(), fact_id


@pytest.mark.parametrize("signal", [s.id for s in DEFAULT_SIGNALS])
def test_every_progression_driver_signal_is_named_in_all_three_languages(signal: str) -> None:
    names = KEY_NAMES[signal]
    assert all(names.of(language) for language in LANGUAGES), signal


def test_a_breakdown_row_is_named_by_its_metric_and_its_key() -> None:
    names = fact_names("conversion_by_channel.organic")
    assert "conversion by channel" in names.en and "organic" in names.en and "自然流量" in names.zh
