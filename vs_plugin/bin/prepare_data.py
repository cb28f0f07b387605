"""vs-prepare-data: stage 0, a corpus -> conformed clips and Kaldi-style data dirs."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from vs_plugin.bin.cli import command
from vs_plugin.data.cliargs import parse_overrides, setup_logging, str2bool
from vs_plugin.data.prepare import PrepareConfig, merge, run_job
from vs_plugin.data.split import MODES
from vs_plugin.errors import ConfigError
from vs_plugin.registry import CORPORA
from vs_plugin.utils.files import sweep_temporaries
from vs_plugin.video.conform import PAD_MODES, ConformConfig

PROG = "vs-prepare-data"
log = logging.getLogger("vs_plugin.prepare")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Stage 0: list a corpus, conform every clip with one ffmpeg run (mono wav at "
            "--sample-rate, H.264 mp4 at --fps and --height x --width, both padded or clipped "
            "to --duration) and write data/{train,valid,test}/ (video.scp, wav.scp, "
            "utt2category, category2utt, failed.list). Unusable inputs are listed with a "
            "reason and skipped. Run all jobs at once (default), or one job per process with "
            "--nj N --job J and then --nj N --merge."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("corpus")
    g.add_argument("--corpus", help="registered corpus name (vas, folder, manifest, ...)")
    g.add_argument(
        "--corpus-config",
        nargs="*",
        default=[],
        metavar="K=V",
        help="corpus config overrides, e.g. root=/data/VAS layout=auto",
    )
    g.add_argument("--root", help="shortcut: corpus root (implies --corpus vas if none given)")
    g.add_argument(
        "--manifest", help="shortcut: CSV/TSV of path,category[,split] (implies --corpus manifest)"
    )
    g.add_argument("--categories", nargs="*", help="only these categories")
    g = p.add_argument_group("output")
    g.add_argument("--out-data", default="data", help="data dir root")
    g.add_argument("--out-media", default="dump/media", help="where conformed mp4/wav go")
    g = p.add_argument_group("split")
    g.add_argument(
        "--split",
        choices=MODES,
        default="auto",
        help="paper: seeded 32/32 per category; regnet: numeric order, last clips "
        "test; manifest: the corpus's own split; auto: manifest if every clip has "
        "one, else paper",
    )
    g.add_argument("--valid-size", type=int, default=32, help="valid clips per category")
    g.add_argument(
        "--test-size",
        type=int,
        default=None,
        help="test clips per category (default 32; 128 with --split regnet)",
    )
    g.add_argument("--seed", type=int, default=0)
    g = p.add_argument_group("conforming")
    g.add_argument("--duration", type=float, default=10.0, help="seconds per clip")
    g.add_argument("--fps", type=float, default=21.5)
    g.add_argument("--height", type=int, default=256)
    g.add_argument("--width", type=int, default=340)
    g.add_argument("--sample-rate", type=int, default=22050)
    g.add_argument(
        "--pad",
        choices=PAD_MODES,
        default="loop",
        help="loop the clip, or pad with silence and the last frame",
    )
    g.add_argument("--min-duration", type=float, default=0.5, help="reject shorter clips")
    g = p.add_argument_group("jobs")
    g.add_argument("--nj", type=int, default=1, help="number of jobs")
    g.add_argument("--job", type=int, default=None, help="run only this job (0-based)")
    g.add_argument("--merge", action="store_true", help="only merge finished jobs")
    g.add_argument(
        "--strict",
        type=str2bool,
        default=False,
        metavar="true|false",
        help="stop at the first unusable clip",
    )
    g.add_argument("--log-dir", default=None, help="per-job logs (default: <out-data>/log)")
    return p


def _corpus(args: argparse.Namespace):
    overrides = parse_overrides(args.corpus_config)
    name = args.corpus
    if args.manifest:
        name = name or "manifest"
        overrides.setdefault("path", args.manifest)
    if args.root:
        name = name or "vas"
        overrides.setdefault("root", args.root)
    if not name:
        raise ConfigError("give --corpus, --root or --manifest")
    if args.categories:
        overrides["categories"] = list(args.categories)
    return CORPORA.build({"name": name, **overrides})


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Run stage 0 (one job, all jobs, or the merge); 2 for a bad input or option."""
    args = build_parser().parse_args(argv)
    test_size = args.test_size
    if test_size is None:
        test_size = 128 if args.split == "regnet" else 32
    cfg = PrepareConfig(
        out_data=args.out_data,
        out_media=args.out_media,
        split=args.split,
        valid_size=args.valid_size,
        test_size=test_size,
        seed=args.seed,
        strict=args.strict,
        conform=ConformConfig(
            duration=args.duration,
            fps=args.fps,
            height=args.height,
            width=args.width,
            sample_rate=args.sample_rate,
            pad=args.pad,
            min_duration=args.min_duration,
        ),
    )
    log_dir = Path(args.log_dir or Path(args.out_data) / "log")
    tag = "merge" if args.merge else ("all" if args.job is None else str(args.job))
    setup_logging(log_dir / f"prepare.{tag}.log")
    sweep_temporaries(args.out_data, args.out_media)
    if not args.merge:
        corpus = _corpus(args)
        items = list(corpus.items())
        log.info("%s: %d clips", corpus.describe(), len(items))
        jobs = range(args.nj) if args.job is None else [args.job]
        for job in jobs:
            run_job(items, cfg, nj=args.nj, job=job)
        if args.job is not None:
            return 0
    counts = merge(cfg, nj=args.nj)
    log.info("data dirs in %s: %s", args.out_data, counts)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
