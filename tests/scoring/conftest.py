"""Fixtures for the scorer tests: one small experiment layout per session."""

from __future__ import annotations

import pytest

from tests.scoring.sounds import make_experiment


@pytest.fixture(scope="session")
def experiment(tmp_path_factory):
    """Two categories (3 tone clips, 3 noise clips), 2 s each, no videos."""
    return make_experiment(tmp_path_factory.mktemp("exp"), {"tone": 3, "noise": 3})
