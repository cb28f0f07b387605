"""``vs-generate``: give a video the sound of a reference, in one command."""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from vs_plugin.bin.cli import command, load_model
from vs_plugin.data.cliargs import (
    VOCODER_CONFIG_HELP,
    attach_dash_values,
    component_spec,
    parse_overrides,
)

PROG = "vs-generate"
PATH_OPTIONS = ("--video", "--reference", "--output", "--model")  # values may start with "-"


def build_parser() -> argparse.ArgumentParser:
    from vs_plugin.infer.reference import (
        MIN_REFERENCE_SOUND_SECONDS,
        REFERENCE_SECONDS,
        SOUND_TOP_DB,
    )

    p = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Generate a sound track for a video in the timbre of a reference recording "
            "(VarietySound). Any video ffmpeg decodes, any length (long videos are generated "
            "in overlapping windows, in bounded memory; their features wait in a temporary "
            "file in $TMPDIR); any reference audio file with at least "
            f"{MIN_REFERENCE_SOUND_SECONDS:g} s of sound (within {SOUND_TOP_DB:g} dB of its "
            f"peak): one shorter than {REFERENCE_SECONDS:g} s (a one-shot, e.g. a snare hit) "
            "is trimmed to its sound and repeated back to back to that length. The generated "
            "sound replaces the video's own track; "
            "the picture is copied (re-encoded with H.264 only when the output container "
            "cannot hold its codec, e.g. a GIF). An existing output is replaced when the run "
            "succeeds; the inputs themselves are never overwritten."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    required = {"required": True, "default": argparse.SUPPRESS}  # no "(default: None)"
    p.add_argument("--video", help="input video file", **required)
    p.add_argument("--reference", help="reference audio (or video) file", **required)
    p.add_argument("--output", help="output video (.mp4, .m4v, .mov, .mkv or .avi), or .wav "
                   "for the sound alone", **required)
    p.add_argument(
        "--model",
        default=os.environ.get("VS_MODEL"),
        help="exported model folder (exp/<tag>/model), its card.yaml, or a fairseq2 card name "
        "(default: $VS_MODEL, now %(default)s)",
    )
    p.add_argument("--vocoder", default="hifigan", help="vocoder name (hifigan, griffin_lim)")
    p.add_argument(
        "--vocoder-config", nargs="*", default=[], metavar="K=V", help=VOCODER_CONFIG_HELP
    )
    p.add_argument(
        "--feature-config", nargs="*", default=[], metavar="K=V",
        help="runtime options of the model's video feature, e.g. backend=torch (on the CPU "
        "the default is OpenVINO, which gives the same features as torch up to float rounding); "
        "options that change the features come from the model and are refused",
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda:0...")
    p.add_argument("--window", type=int, default=215,
                   help="feature frames per generator window (at the model's rate, 21.5 a "
                   "second for the recipes' models: 215 = 10 s)")
    p.add_argument("--overlap", type=int, default=43,
                   help="cross-faded feature frames between windows")
    return p


def load_pipeline(model_spec: str, vocoder_spec: Any, device_spec: str) -> tuple:
    """``(VarietySoundModel, Vocoder)`` on the chosen device; InputError if the model won't load.

    ``vocoder_spec`` is a registered vocoder's name or a ``{"name": ..., **config}`` spec.

    Shared by ``vs-generate`` and ``vs-demo``, which load once and generate many times.
    """
    from vs_plugin.infer.vocode import build_vocoder
    from vs_plugin.utils.device import pick_device

    device = pick_device(device_spec)
    model = load_model(model_spec, device)
    return model, build_vocoder(vocoder_spec, str(device))


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Run ``vs-generate``; 0 on success, 2 for a bad input or option."""
    parser = build_parser()
    words = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(attach_dash_values(parser, words, PATH_OPTIONS))
    if not args.model:
        parser.error("no model: pass --model or set VS_MODEL")
    import torch

    from vs_plugin.infer.generation import GenerationConfig
    from vs_plugin.infer.single import (
        check_output,
        generate_clip,
        prepare_vocoder_for,
        recorded_video_feature,
    )
    from vs_plugin.infer.vocode import build_vocoder
    from vs_plugin.utils.device import pick_device
    from vs_plugin.utils.memory import fix_mmap_threshold

    check_output(args.output, args.video, args.reference)
    fix_mmap_threshold()  # memory stays flat over long videos (vs_plugin.utils.memory)
    t0 = time.perf_counter()
    device = pick_device(args.device)
    vocoder = build_vocoder(component_spec(args.vocoder, args.vocoder_config), str(device))
    # The vocoder compiles (native code, about 2 s of CPU for HiFi-GAN on OpenVINO) while
    # this thread loads the model and reads the reference, mostly single-threaded Python.
    with ThreadPoolExecutor(1, thread_name_prefix="vocoder-prepare") as pool:
        ready = pool.submit(prepare_vocoder_for, vocoder, args.video)
        model = load_model(args.model, device)
        feature = recorded_video_feature(model, parse_overrides(args.feature_config))
        load_time = time.perf_counter() - t0
        gen = GenerationConfig(window=args.window, overlap=args.overlap)
        with torch.inference_mode():
            report = generate_clip(args.video, args.reference, args.output, model, vocoder,
                                   gen=gen, feature=feature, vocoder_ready=ready)
    loading = (f" (+ {load_time:.2f} s loading the model, its video feature and the vocoder, "
               "the vocoder's compile under way beside it)")
    print(report.summary() + loading)
    return 0


if __name__ == "__main__":
    sys.exit(main())
