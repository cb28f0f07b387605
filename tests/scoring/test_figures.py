"""Stage-5 figures: bars carry the tables' means and CIs, pair panels the true event times."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.image import imread

from tests.scoring.sounds import make_experiment
from vs_plugin.data.kaldi_dir import SOUND, read_data_dir
from vs_plugin.scoring.figures import (
    bars_figure,
    figures_markdown,
    pair_figure,
    pick_pairs,
    write_figures,
)
from vs_plugin.scoring.items import build_items
from vs_plugin.scoring.results import SystemScores
from vs_plugin.scoring.stats import mean_ci


class _Scorer:
    lower_is_better = {"err": True, "sim": False}


def _systems():
    rng = np.random.default_rng(0)
    out = []
    for name, shift in (("ours", 0.0), ("baseline", 1.0)):
        rows = [
            {"utt": f"{c}{i}", "category": c, "err": float(rng.normal(shift + k, 0.3)),
             "sim": math.nan, "count": 3}
            for k, c in enumerate(("a", "b")) for i in range(4)
        ]  # fmt: skip
        out.append(SystemScores(name, "x", {"s": rows}))
    return out


def test_bars_show_each_systems_means_and_cis():
    systems = _systems()
    fig = bars_figure(systems, "s", _Scorer())
    (ax,) = fig.axes  # 'sim' is undefined everywhere and 'count' has no direction: one panel
    assert "err" in ax.get_title() and "lower is better" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "Average"]
    bars = [c for c in ax.containers if hasattr(c, "patches")]
    assert [b.get_label() for b in bars] == ["ours", "baseline"]
    for bar_set, system in zip(bars, systems, strict=True):
        rows = system.rows["s"]
        expect = [
            mean_ci([r["err"] for r in rows if r["category"] == c]).mean for c in ("a", "b")
        ] + [mean_ci([r["err"] for r in rows]).mean]
        heights = [p.get_height() for p in bar_set.patches]
        assert heights == pytest.approx(expect)
    # error bars: the CI half-width either side of the mean
    segs = bars[0].errorbar.lines[2][0].get_segments()
    rows = systems[0].rows["s"]
    a = mean_ci([r["err"] for r in rows if r["category"] == "a"])
    assert segs[0][1][1] - segs[0][0][1] == pytest.approx(2 * a.ci95)
    assert bars_figure(systems, "missing", _Scorer()) is None


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    root = tmp_path_factory.mktemp("fig")
    exp = make_experiment(root, {"tone": 3, "noise": 2})
    data = read_data_dir(exp["data"], required=SOUND)
    return exp, build_items(exp["infer"], data, exp["gt"])


def test_pair_panel_puts_the_true_events_on_the_mels_time_axis(exp):
    _, items = exp
    item = items[0]
    fig = pair_figure(item)
    events_ax, *mel_axes = fig.axes
    assert len(mel_axes) == 3
    assert [ax.get_ylabel().split("\n")[0] for ax in mel_axes] == [
        "reference",
        "output",
        "original",
    ]
    lines = sorted(line.get_xdata()[0] for line in events_ax.get_lines())
    assert lines == pytest.approx(item.event_times)
    assert "truth" in events_ax.get_title(loc="left")
    for ax in mel_axes:
        (img,) = ax.get_images()
        left, right, _, top = img.get_extent()
        assert left == 0.0 and right == pytest.approx(2.0, abs=0.02)  # clips are 2 s
        assert top == 80 and img.get_array().shape[0] == 80
    assert all(ax.get_shared_x_axes().joined(events_ax, ax) for ax in mel_axes)
    # the output's loudest frames fall on the true events (the test system transfers timing)
    out_img = mel_axes[1].get_images()[0].get_array()
    energy = np.asarray(out_img).mean(axis=0)
    frame_s = 2.0 / energy.size
    peaks = np.argsort(energy)[-3:] * frame_s
    assert all(min(abs(p - e) for e in item.event_times) < 0.1 for p in peaks)


def test_without_known_events_onsets_of_the_original_are_drawn(exp):
    _, items = exp
    item = items[0]
    item = type(item)(**{**item.__dict__, "event_times": None})
    events_ax = pair_figure(item).axes[0]
    assert "detected" in events_ax.get_title(loc="left")
    detected = [line.get_xdata()[0] for line in events_ax.get_lines()]
    assert detected and all(min(abs(d - e) for e in items[0].event_times) < 0.1 for d in detected)


def test_write_figures_and_links(exp, tmp_path):
    _, items = exp
    systems = _systems()
    figs = write_figures(tmp_path / "figures" / "shuffled", systems, {"s": _Scorer()}, items, 3)
    assert len(figs["bars"]) == 1 and len(figs["pairs"]) == 3
    cats = [next(i.category for i in items if i.utt in p.stem) for p in figs["pairs"]]
    assert set(cats) == {"tone", "noise"}  # one per category in turn
    for path in figs["bars"] + figs["pairs"]:
        img = imread(path)
        assert img.shape[0] > 200 and img.shape[1] > 300 and img.std() > 0.05
    md = figures_markdown(figs, tmp_path)
    links = [
        line.split("](", 1)[1].rstrip(")") for line in md.splitlines() if line.startswith("![")
    ]
    assert len(links) == 4 and all((tmp_path / link).is_file() for link in links)
    assert all(link.startswith("figures/shuffled/") for link in links)
    assert pick_pairs(items, 0) == []
