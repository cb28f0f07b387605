"""Mean and 95 % t-interval against a hand computation."""

from __future__ import annotations

import math

import pytest

from vs_plugin.scoring.stats import AVERAGE, mean_ci, summarise

T_975_DF3 = 3.182446305284263  # Student t 97.5 % quantile, 3 degrees of freedom (tables)


def test_mean_ci_by_hand():
    m = mean_ci([4, 5, 3, 4])
    sd = math.sqrt((0 + 1 + 1 + 0) / 3)
    assert m.mean == 4.0 and m.n == 4
    assert m.ci95 == pytest.approx(T_975_DF3 * sd / 2)
    assert m.format() == f"4.00 (±{T_975_DF3 * sd / 2:.2f})"


def test_nan_is_left_out_and_small_samples_have_no_interval():
    assert mean_ci([1.0, math.nan, 3.0]).n == 2
    one = mean_ci([2.0])
    assert one.mean == 2.0 and math.isnan(one.ci95) and one.format() == "2.00"
    assert mean_ci([]).format() == "n/a"


def test_summary_pools_every_value_in_the_average():
    s = summarise([1, 2, 3, 10], ["a", "a", "b", "b"])
    assert s["a"].mean == 1.5 and s["b"].mean == 6.5
    assert s[AVERAGE].mean == 4.0 and s[AVERAGE].n == 4
