"""The dump's feature tables: one reader and writer of ``feats_shape``."""

from __future__ import annotations

from pathlib import Path

import pytest

from vs_plugin.data.layout import feature_dims, read_feats_shape, shape_file, write_feats_shape
from vs_plugin.errors import InputError


def test_feats_shape_round_trip_in_c_order(tmp_path: Path) -> None:
    path = tmp_path / "feats_shape"
    shapes = {"b": (344, 80), "B": (12, 80), "a": (0, 80)}
    write_feats_shape(path, shapes)
    assert read_feats_shape(path) == shapes
    assert [line.split()[0] for line in path.read_text().splitlines()] == ["B", "a", "b"]


@pytest.mark.parametrize("value", ["344", "344,80,1", "x,80", "-1,80", "344;80"])
def test_a_bad_shape_names_the_file_and_the_utterance(tmp_path: Path, value: str) -> None:
    path = tmp_path / "feats_shape"
    path.write_text(f"a 10,80\nbad {value}\n")
    with pytest.raises(InputError, match="bad") as exc:
        read_feats_shape(path)
    assert str(path) in str(exc.value)


def test_feature_dims_reads_both_streams_and_refuses_mixed_widths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="run stage 1") as exc:
        feature_dims(tmp_path)
    assert "feats_shape" in str(exc.value)
    for stream, width in (("mel", 80), ("video", 2560)):
        shape_file(tmp_path, stream).parent.mkdir()
        write_feats_shape(shape_file(tmp_path, stream), {"a": (86, width), "b": (10, width)})
    assert feature_dims(tmp_path) == {"n_mels": 80, "video_dim": 2560}
    write_feats_shape(shape_file(tmp_path, "video"), {"a": (86, 2560), "b": (10, 1280)})
    with pytest.raises(InputError, match="different widths"):
        feature_dims(tmp_path)
