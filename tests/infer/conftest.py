"""Fixtures shared by the set-level inference tests."""

from __future__ import annotations

import pytest

from tests.infer.smallset import SmallSet, make_small_set


@pytest.fixture(scope="package")
def small_set(tmp_path_factory) -> SmallSet:
    """The small test set and its model, built once for the package's tests."""
    return make_small_set(tmp_path_factory.mktemp("recipe"))
