"""Command-line helpers shared by the ``vs-*`` commands."""

from __future__ import annotations

import argparse

import pytest

from vs_plugin.data.cliargs import attach_dash_values


@pytest.fixture
def parser():
    p = argparse.ArgumentParser()
    p.add_argument("--video")
    p.add_argument("--output")
    p.add_argument("--window", type=int)
    return p


def test_a_value_starting_with_a_dash_is_attached_to_its_path_option(parser):
    argv = ["--video", "-clip.mp4", "--output", "-o.wav", "--window", "-3"]
    got = attach_dash_values(parser, argv, ("--video", "--output"))
    assert got == ["--video=-clip.mp4", "--output=-o.wav", "--window", "-3"]
    args = parser.parse_args(got[:2] + ["--output=x"])
    assert args.video == "-clip.mp4"


def test_a_missing_value_still_reads_as_missing(parser):
    argv = ["--video", "--output", "o.wav"]  # --video's value forgotten: not swallowed
    assert attach_dash_values(parser, argv, ("--video", "--output")) == argv
    with pytest.raises(SystemExit):
        parser.parse_args(argv)


def test_other_words_pass_unchanged(parser):
    argv = ["--video=a.mp4", "--output", "o.wav", "--", "-x"]
    assert attach_dash_values(parser, argv, ("--video", "--output")) == argv
