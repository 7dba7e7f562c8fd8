"""Charts are real PNGs, identical for identical inputs."""

from __future__ import annotations

from datetime import date

from lifecycle.metrics.cohorts import CohortTable
from tools.charts import cohort_heatmap, health_breakdown, stage_funnel

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_charts_are_png_and_deterministic() -> None:
    table = CohortTable("recurring", "logo", "month", "subscriptions", date(2024, 3, 31), ("2024-01", "2024-02"), (10, 5),
                        ((1.0, 0.8, 0.7), (1.0, 0.6, None)), ((10, 8, 7), (5, 3, None)), (10.0, 5.0))
    for make in (lambda: cohort_heatmap(table), lambda: stage_funnel([("adoption", 3), ("growth", 1)]),
                 lambda: health_breakdown([("usage", 80.0, 35.0), ("growth", None, 20.0)], 64.0, "c1")):
        first, second = make(), make()
        assert first.startswith(PNG_MAGIC) and first == second
