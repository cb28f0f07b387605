"""Picture and sound spans in presentation time, and files that hold less than they say."""

from __future__ import annotations

import pytest

from tests.media import make_edit_list_clip, make_offset_clip, make_truncated, make_video
from vs_plugin.errors import InputError
from vs_plugin.io.spans import MIN_READABLE_SHARE, media_timing


def test_stream_start_offsets_are_reported(tmp_path):
    clip = make_offset_clip(tmp_path / "late.mp4", picture_start=1.0, sound_start=0.0,
                            seconds=3.0)
    t = media_timing(clip)
    assert t.picture.start == pytest.approx(1.0, abs=0.01)
    assert t.picture.duration == pytest.approx(3.0, abs=0.11)
    assert t.sound.start == pytest.approx(0.0, abs=0.03)
    assert not t.is_partial and t.readable_share == pytest.approx(1.0)


def test_edit_list_start_is_the_first_presented_picture(tmp_path):
    clip = make_edit_list_clip(tmp_path / "cut.mp4", cut=0.6, seconds=4.0)
    t = media_timing(clip)
    assert t.picture.start == pytest.approx(0.0, abs=0.01)  # the hidden frames do not count
    assert t.picture.duration == pytest.approx(3.4, abs=0.11)


def test_a_file_cut_short_reports_what_it_holds(tmp_path):
    full = make_video(tmp_path / "full.mp4", seconds=5.0, fps=25, size=(96, 128),
                      events=(1.0, 4.0), faststart=True)
    t_full = media_timing(full)
    assert not t_full.is_partial
    cut = make_truncated(full, tmp_path / "cut.mp4", keep=0.6)
    t = media_timing(cut)
    assert t.header_duration == pytest.approx(5.0, abs=0.05)  # the header still says 5 s
    assert t.is_partial and 0.3 < t.picture.duration < 4.5
    assert t.readable_share == pytest.approx(t.picture.duration / 5.0, abs=0.01)
    msg = t.partial_message()
    assert f"{t.picture.duration:.2f} s" in msg and "5.00 s" in msg


def test_too_little_readable_picture_is_refused_naming_the_file(tmp_path):
    full = make_video(tmp_path / "full.mp4", seconds=5.0, fps=25, size=(96, 128),
                      faststart=True)
    cut = make_truncated(full, tmp_path / "stub.mp4", keep=0.15)
    t = media_timing(cut)
    assert t.readable_share < MIN_READABLE_SHARE
    with pytest.raises(InputError) as err:
        t.check_readable()
    assert err.value.path == cut and "at least 50%" in str(err.value)
