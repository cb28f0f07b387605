import pytest

from vs_plugin.data.split import SplitItem, assign_splits


def _items(n_per_cat=40, cats=("dog", "gun")):
    return [SplitItem(f"{c}-{i:03d}", c, f"clip_{i}") for c in cats for i in range(n_per_cat)]


def test_paper_split_sizes_and_determinism():
    items = _items()
    a = assign_splits(items, "paper", valid_size=5, test_size=6, seed=1)
    for cat in ("dog", "gun"):
        sets = [a[i.utt] for i in items if i.category == cat]
        assert sets.count("valid") == 5 and sets.count("test") == 6 and sets.count("train") == 29
    assert a == assign_splits(list(reversed(items)), "paper", valid_size=5, test_size=6, seed=1)
    assert a != assign_splits(items, "paper", valid_size=5, test_size=6, seed=2)


def test_regnet_split_takes_the_last_numeric_ids():
    # numeric, not string, order: clip_9 comes before clip_10
    items = [SplitItem(f"dog-{i}", "dog", f"clip_{i}") for i in (10, 9, 2, 1, 11)]
    a = assign_splits(items, "regnet", valid_size=1, test_size=2)
    assert a == {
        "dog-10": "test",
        "dog-11": "test",
        "dog-9": "valid",
        "dog-2": "train",
        "dog-1": "train",
    }


def test_auto_uses_given_splits_and_manifest_needs_them():
    items = [SplitItem("a", "x", "a", "test"), SplitItem("b", "x", "b", "train")]
    assert assign_splits(items) == {"a": "test", "b": "train"}
    with pytest.raises(ValueError, match="no split"):
        assign_splits(items + [SplitItem("c", "x", "c")], "manifest")


def test_too_small_category_asks_for_smaller_sizes():
    with pytest.raises(ValueError, match="--valid-size"):
        assign_splits(_items(10), "paper")
