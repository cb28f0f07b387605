"""Window planning, cross-fades and reference policies (pure functions, fast)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.infer import wholearray
from vs_plugin.errors import InputError
from vs_plugin.infer.pairing import make_pairs, read_pairs
from vs_plugin.infer.windows import OverlapAdder, fade_weights, overlap_add, plan_windows


@pytest.mark.parametrize("length", [1, 100, 215, 216, 400, 860, 2580, 2581])
def test_windows_cover_everything_with_enough_overlap(length):
    window, overlap = 215, 43
    starts = plan_windows(length, window, overlap)
    assert starts[0] == 0
    assert min(length, starts[-1] + window) == length  # the end is covered
    for a, b in zip(starts, starts[1:]):
        assert a + window - b >= overlap  # every overlap is long enough
    if length > window:
        # and no window is wasted: one fewer would leave a too-short overlap
        n = len(starts) - 1
        assert n < 2 or (length - window) / (n - 1) > window - overlap
    else:
        assert starts == [0]


def test_planned_window_count_for_a_40s_video():
    # 40 s at 21.5 fps = 860 frames; windows of 215 with 43 overlap -> 5 windows
    assert len(plan_windows(860, 215, 43)) == 5


def test_overlap_add_is_exact_on_consistent_pieces_and_smooth_across_a_jump():
    signal = np.sin(np.arange(1000) / 30.0)[:, None] * np.ones((1, 3))
    starts = plan_windows(1000, 300, 50)
    pieces = [signal[s : s + 300] for s in starts]
    np.testing.assert_allclose(overlap_add(pieces, starts, 1000, 50), signal, atol=1e-12)
    # two constant pieces at different levels: the blend ramps instead of jumping
    out = overlap_add([np.zeros(60), np.ones(60)], [0, 40], 100, 20)
    assert out[0] == 0 and out[-1] == 1
    assert np.all(np.diff(out) >= 0) and np.max(np.diff(out)) < 0.1


@pytest.mark.parametrize(
    "length, window, overlap, dims",
    [(1000, 300, 50, (3,)), (7, 10, 2, ()), (2581, 2580, 32, ()), (5000, 860, 172, (2, 2))],
)
def test_overlap_adder_piece_by_piece_equals_the_whole_array_blend(length, window, overlap, dims):
    rng = np.random.default_rng(length)
    starts = plan_windows(length, window, overlap)
    # full-window pieces: the last one may reach past the end, as the vocoder's can
    pieces = [rng.standard_normal((window, *dims)).astype(np.float32) for _ in starts]
    expected = wholearray.overlap_add(pieces, starts, length, overlap)
    adder = OverlapAdder(starts, length, overlap)
    blocks = []
    for piece, next_start in zip(pieces, [*starts[1:], length]):
        blocks.append(adder.add(piece))
        assert adder.done == next_start  # all before the next piece is out
        assert adder.held <= window  # and only the overlap still to blend is kept
    assert adder.finished and all(b.dtype == np.float32 for b in blocks)
    np.testing.assert_array_equal(np.concatenate(blocks), expected)
    np.testing.assert_array_equal(overlap_add(pieces, starts, length, overlap), expected)


def test_overlap_adder_refuses_what_the_blend_cannot_do():
    with pytest.raises(ValueError, match="in order"):
        OverlapAdder([0, 40, 20], 100, 10)
    adder = OverlapAdder([0, 40], 100, 10)
    adder.add(np.ones(60))
    adder.add(np.ones(60))
    with pytest.raises(ValueError, match="more pieces"):
        adder.add(np.ones(60))
    gap = OverlapAdder([0, 50], 100, 10)
    with pytest.raises(ValueError, match="do not cover"):
        gap.add(np.ones(40))  # items 40..49 are final and no piece covers them


def test_fade_weights_never_vanish():
    w = fade_weights(10, 4, 4)
    assert np.all(w > 0) and w[4:6].tolist() == [1, 1] and w[0] < w[1]


def test_bad_window_settings_are_rejected():
    with pytest.raises(ValueError):
        plan_windows(100, 10, 10)


CATS = {f"{c}_{i}": c for c in ("dog", "gun", "baby") for i in range(4)}


def test_same_policy_is_reconstruction():
    assert all(p.video == p.reference == p.utt for p in make_pairs(CATS, "same"))


def test_shuffled_takes_another_clip_of_the_same_category_reproducibly():
    pairs = make_pairs(CATS, "shuffled", seed=3)
    assert all(p.reference != p.video and CATS[p.reference] == CATS[p.video] for p in pairs)
    assert pairs == make_pairs(CATS, "shuffled", seed=3)
    other_seeds = [make_pairs(CATS, "shuffled", seed=s) for s in range(4, 9)]
    assert any(o != pairs for o in other_seeds)


def test_cross_takes_another_category():
    pairs = make_pairs(CATS, "cross", seed=0)
    assert all(CATS[p.reference] != CATS[p.video] for p in pairs)
    with pytest.raises(ValueError, match="two categories"):
        make_pairs({"a": "x", "b": "x"}, "cross")


def test_explicit_pairs_file(tmp_path):
    f = tmp_path / "pairs.txt"
    f.write_text("# video reference\ndog_0 gun_1\ndog_0 baby_2\ngun_3 gun_3\n")
    pairs = read_pairs(f, CATS)
    assert [(p.utt, p.video, p.reference) for p in pairs] == [
        ("dog_0__gun_1", "dog_0", "gun_1"),
        ("dog_0__baby_2", "dog_0", "baby_2"),
        ("gun_3", "gun_3", "gun_3"),
    ]
    f.write_text("dog_0 cat_9\n")
    with pytest.raises(InputError, match="cat_9"):
        read_pairs(f, CATS)
    with pytest.raises(InputError, match="not found"):
        read_pairs(tmp_path / "missing.txt", CATS)


def test_pairs_tsv_round_trip_and_bad_lines_name_the_file(tmp_path):
    from vs_plugin.errors import InputError
    from vs_plugin.infer.pairing import Pair, pairs_tsv_path, read_pairs_tsv, write_pairs_tsv

    pairs = [Pair("b", "b", "a"), Pair("a", "a", "c")]
    assert pairs_tsv_path(tmp_path) == tmp_path / "pairs.tsv"  # the contract's name
    write_pairs_tsv(pairs_tsv_path(tmp_path), pairs)
    assert list(read_pairs_tsv(tmp_path / "pairs.tsv").values()) == pairs[::-1]  # by utt
    (tmp_path / "bad.tsv").write_text("a\ta\tb\nc\td\n")
    with pytest.raises(InputError, match="line 2") as err:
        read_pairs_tsv(tmp_path / "bad.tsv")
    assert err.value.path == tmp_path / "bad.tsv"
    (tmp_path / "twice.tsv").write_text("a\ta\tb\na\ta\tc\n")
    with pytest.raises(InputError, match="listed twice"):
        read_pairs_tsv(tmp_path / "twice.tsv")
