"""The brute-force membership properties on Spark: a few random histories and definition
trees, ingested and evaluated day by day on a real local Spark session, give exactly the
model's members and join times (DuckDB runs many more examples in tests/semantics)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from tests.semantics.strategies import Scenario, scenarios, window_scenarios
from tests.semantics.test_membership_properties import PIPELINE_SETTINGS, check_day_by_day

pytestmark = pytest.mark.spark


@settings(PIPELINE_SETTINGS, max_examples=3)
@given(scenario=scenarios())
def test_spark_matches_model_day_by_day(spark_session: object, scenario: Scenario) -> None:
    check_day_by_day(scenario, engine="spark")


@settings(PIPELINE_SETTINGS, max_examples=2)
@given(scenario=window_scenarios())
def test_spark_matches_model_on_window_edges(spark_session: object, scenario: Scenario) -> None:
    check_day_by_day(scenario, engine="spark")
