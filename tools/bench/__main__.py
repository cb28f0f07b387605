#!/usr/bin/env python
"""vs_plugin benchmarks. Each subcommand prints a table and can write JSON (--json).

    tools/venv/bin/python -m tools.bench train --preset paper --batch 48 --device cuda
    tools/venv/bin/python -m tools.bench infer --preset paper
    tools/venv/bin/python -m tools.bench --repeats 5 fresh-generate   # whole vs-generate processes
    tools/venv/bin/python -m tools.bench prep
    tools/venv/bin/python -m tools.bench score
    tools/venv/bin/python -m tools.bench floor      # FLOPs of one iteration / one generation
    tools/venv/bin/python -m tools.bench --threads 1 --repeats 5 vocoder   # HiFi-GAN CPU paths

(run from the repository root).

Figures are medians over --repeats runs after warm-up; every run records the machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402

from tools.bench.common import machine, print_table, write_json  # noqa: E402
from vs_plugin.utils.device import pick_device  # noqa: E402


def feature_variants(text: str) -> list[dict]:
    """``'backend=torch;backend=openvino,precision=bf16'`` -> a list of option dicts."""
    from vs_plugin.data.cliargs import parse_overrides

    return [parse_overrides(v.split(",")) for v in text.split(";")] if text else [{}]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--json", default=None, help="write the results here as JSON")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per figure")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="training clips/s and peak memory")
    t.add_argument("--preset", default="paper")
    t.add_argument("--batch", type=int, default=48)
    t.add_argument("--frames", type=int, default=215, help="video frames per clip (215 = 10 s)")
    t.add_argument("--modes", default="fp32,bf16,bf16+compile")

    ts = sub.add_parser("train-steps", help="the training step's optimiser and discriminator "
                        "settings side by side (before / each added), interleaved in one process")
    ts.add_argument("--preset", default="tiny")
    ts.add_argument("--batch", type=int, default=8)
    ts.add_argument("--frames", type=int, default=86, help="video frames per clip (86 = 4 s)")
    ts.add_argument("--steps", type=int, default=3, help="iterations per turn")
    ts.add_argument("--flush-denormal", choices=("on", "off"), default="on",
                    help="this process's denormal mode (per thread: not one of the turns)")

    i = sub.add_parser("infer", help="real-time factors of generation, vocoding, vs-generate")
    i.add_argument("--preset", default="paper")
    i.add_argument("--seconds", type=float, default=10.0)
    i.add_argument("--vocoders", default="hifigan,griffin_lim")
    i.add_argument("--video-feature", default="effnet_rgb_flow")
    i.add_argument("--skip-end-to-end", action="store_true")
    i.add_argument("--feature-variants", default="",
                   help="video feature options to compare end to end, ';' between variants, "
                   "',' between k=v pairs (e.g. 'backend=torch;backend=openvino')")

    fg = sub.add_parser("fresh-generate", help="vs-generate in fresh processes, as a user runs "
                        "it: timed parts, loading and wall, per recorded video feature variant")
    fg.add_argument("--preset", default="paper")
    fg.add_argument("--seconds", type=float, default=10.0)
    fg.add_argument("--video-feature", default="effnet_rgb_flow")
    fg.add_argument("--feature-variants", default="precision=fp32;precision=bf16",
                    help="video feature options recorded in each variant's model, ';' between "
                    "variants, ',' between k=v pairs")

    pr = sub.add_parser("prep", help="stage 0 and stage 1 seconds per clip")
    pr.add_argument("--seconds", type=float, default=10.0)
    pr.add_argument("--clips", type=int, default=2)
    pr.add_argument("--extractors", default="effnet_rgb_flow:dis,effnet_rgb_flow:tvl1")

    s = sub.add_parser("score", help="clips/s per scorer")
    s.add_argument("--seconds", type=float, default=10.0)
    s.add_argument("--clips", type=int, default=4)
    s.add_argument("--scorers", default="mcd,timbre_similarity,onset,disentanglement")

    f = sub.add_parser("floor", help="FLOPs of a training iteration and a generation")
    f.add_argument("--preset", default="paper")
    f.add_argument("--batch", type=int, default=4)
    f.add_argument("--frames", type=int, default=215)

    v = sub.add_parser("vocoder", help="HiFi-GAN CPU paths: s per s of audio, L1 to torch fp32")
    v.add_argument("--seconds", type=float, default=10.0, help="audio length (10 s = 861 frames)")
    v.add_argument("--paths", default=None,
                   help="comma-separated, the first is the reference (default: the vocoder's "
                        "options; see tools/bench/vocoder.py for the experimental ones)")

    args = p.parse_args(argv)
    if args.cmd == "train-steps":  # a per-thread mode: before any work starts worker threads
        torch.set_flush_denormal(args.flush_denormal == "on")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    payload = {"machine": machine(device), "command": " ".join(sys.argv), "settings": vars(args)}

    if args.cmd == "train":
        from tools.bench.train import bench_train

        rows = bench_train(args.preset, args.batch, args.frames, device,
                           args.modes.split(","), args.repeats)
        print_table(f"train ({args.preset}, batch {args.batch}, {args.frames} video frames)", rows)
    elif args.cmd == "train-steps":
        from tools.bench.train import bench_step_paths

        rows = bench_step_paths(args.preset, args.batch, args.frames, device, args.repeats,
                                args.steps, args.flush_denormal == "on")
        print_table(f"train steps ({args.preset}, batch {args.batch}, {args.frames} video "
                    f"frames, {args.repeats} rounds, interleaved)", rows)
    elif args.cmd == "infer":
        from tools.bench.infer import bench_infer

        rows = bench_infer(args.preset, args.seconds, device, args.vocoders.split(","),
                           args.video_feature, args.repeats, not args.skip_end_to_end,
                           feature_variants(args.feature_variants))
        print_table(f"infer ({args.preset}, {args.seconds:g} s clip)", rows)
    elif args.cmd == "fresh-generate":
        from tools.bench.infer import bench_fresh

        rows = bench_fresh(args.preset, args.seconds, args.video_feature,
                           feature_variants(args.feature_variants), args.repeats)
        print_table(f"fresh vs-generate ({args.preset}, {args.seconds:g} s clip, "
                    f"{args.repeats} runs each, in turn)", rows)
    elif args.cmd == "prep":
        from tools.bench.prep import bench_prep

        rows = bench_prep(args.seconds, args.clips, args.extractors.split(","), device)
        print_table(f"prep ({args.seconds:g} s clips)", rows)
    elif args.cmd == "score":
        from tools.bench.score import bench_score

        rows = bench_score(args.seconds, args.clips, args.scorers.split(","))
        print_table(f"score ({args.seconds:g} s clips)", rows)
    elif args.cmd == "vocoder":
        from tools.bench.vocoder import DEFAULT_PATHS, bench_vocoder

        rows = bench_vocoder(args.seconds, (args.paths or DEFAULT_PATHS).split(","),
                             args.repeats)
        print_table(f"vocoder (HiFi-GAN, {args.seconds:g} s, CPU, alternated)", rows)
    else:
        from tools.bench.floor import bench_floor

        rows = bench_floor(args.preset, args.batch, args.frames, device, args.repeats)
        print_table(f"floor ({args.preset})", rows)
    payload["rows"] = rows
    print_table("machine", [payload["machine"]])
    write_json(args.json, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
