"""The dashboards' figures (docs/marts.md, "Also published"), recomputed here in Python
from the published contract tables: stickiness, quick ratio, Wilson intervals, the
sample-ratio flag, and the named marketplace segments."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from dagster import ExecuteInProcessResult

from tests.conftest import query

Z_95 = 1.959963984540054


def wilson(converted: int, assigned: int) -> tuple[float, float]:
    p, z2 = converted / assigned, Z_95 * Z_95 / assigned
    half = Z_95 * math.sqrt(p * (1 - p) / assigned + Z_95 * Z_95 / (4 * assigned * assigned))
    low, high = (p + z2 / 2 - half) / (1 + z2), (p + z2 / 2 + half) / (1 + z2)
    return max(0.0, min(p, low)), min(1.0, max(p, high))  # exactly 0 or 1 at the ends


def test_wilson_reference_values() -> None:
    """The textbook interval of 10 conversions in 100: 5.52 % to 17.44 %; none or all
    converted: the interval starts or ends at the rate itself."""
    low, high = wilson(10, 100)
    assert (round(low, 4), round(high, 4)) == (0.0552, 0.1744)
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == 1.0


@pytest.fixture
def published(sample_build: tuple[Path, ExecuteInProcessResult]) -> Path:
    return sample_build[0] / "analytics.duckdb"


def test_growth_kpis_are_the_active_users_and_growth_accounting_figures(published: Path) -> None:
    kpis = query(published, "select * from marts.fct_daily_growth_kpis order by activity_date")
    dau = query(published, "select * from marts.fct_daily_active_users order by activity_date")
    growth = query(published, "select * from marts.fct_growth_accounting order by activity_date")
    assert len(kpis) == len(dau) == len(growth) > 30
    for row, (day, d, w, m, complete), (_, new, retained, resurrected, churned, _) in zip(
        kpis, dau, growth, strict=True
    ):
        stickiness = d / m if m else None
        quick = (new + resurrected) / churned if churned else None
        assert row == pytest.approx(
            (day, d, w, m, stickiness, new, retained, resurrected, churned, quick, complete),
            rel=1e-12,
        )
    assert any(row[9] is not None and row[9] != 1 for row in kpis)  # not a constant


def test_experiment_readout_adds_wilson_intervals_and_the_sample_ratio_flag(
    published: Path,
) -> None:
    results = query(
        published,
        "select experiment_id, variant, assigned_users, converted_users, srm_p_value "
        "from marts.fct_experiment_results order by 1, 2",
    )
    readout = query(
        published,
        "select experiment_id, variant, assigned_users, converted_users, conversion_ci_low, "
        "conversion_ci_high, is_sample_ratio_mismatch, sample_ratio_check "
        "from marts.fct_experiment_readout order by 1, 2",
    )
    assert [r[:4] for r in readout] == [r[:4] for r in results] and results
    for (_, _, assigned, converted, srm), (*_, low, high, flag, words) in zip(
        results, readout, strict=True
    ):
        if assigned:
            assert (low, high) == pytest.approx(wilson(converted, assigned), rel=1e-12)
        assert flag == (srm is not None and srm < 0.001)
        assert words.startswith("Split is off") == flag


def test_marketplace_segments_name_every_segment_and_keep_its_numbers(published: Path) -> None:
    named = query(
        published,
        "select kpi_date, region_id, category_id, listings_created, completed_trades, gmv_krw, "
        "is_complete from marts.fct_marketplace_segments order by all",
    )
    segments = query(published, "select * from marts.fct_daily_marketplace_by_segment order by all")
    assert named == segments and named
    names = query(
        published,
        "select count(*) filter (where s.region_name = r.region_name), count(*) "
        "from marts.fct_marketplace_segments s join marts.dim_regions r using (region_id)",
    )
    assert names[0][0] == names[0][1] > 0
