"""``vs-infer`` (stage 3): generate test-set mels with a reference policy and ablations."""

from __future__ import annotations

import argparse
import sys

from vs_plugin.bin.cli import command, load_model
from vs_plugin.data.cliargs import str2bool
from vs_plugin.errors import ConfigError
from vs_plugin.infer.pairing import POLICIES
from vs_plugin.utils.files import sweep_temporaries

PROG = "vs-infer"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Stage 3: for each clip of a set, generate a mel from its video features and a "
            "reference mel (policy same|shuffled|cross|pairs|timbre_5x3) with a silent "
            "background. Writes <out>/mel/<utt>.npy, mel.scp and pairs.tsv; finished clips "
            "are skipped on reruns."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--model",
        required=True,
        help="exported model folder, card file or name; with '{category}' in it, one model "
        "per category of the set (e.g. exp/t/cat_{category}/model), the paper's protocol",
    )
    p.add_argument("--data", required=True, help="data dir of the set (utt2category)")
    p.add_argument("--dump", required=True, help="dump dir of the set (video/, mel/)")
    p.add_argument("--out", required=True, help="output folder exp/<tag>/infer_<set>_<policy>")
    p.add_argument("--policy", default="shuffled", choices=POLICIES)
    p.add_argument("--pairs", default=None, help="'video_utt reference_utt' lines (--policy pairs)")
    p.add_argument("--seed", type=int, default=0, help="seed of the reference draws and noise")
    p.add_argument(
        "--drop-temporal",
        choices=("zeros", "noise"),
        default=None,
        help="ablation: replace the temporal code",
    )
    p.add_argument(
        "--drop-timbre",
        choices=("zeros", "noise"),
        default=None,
        help="ablation: replace the timbre code",
    )
    p.add_argument(
        "--with-background",
        type=str2bool,
        default=False,
        help="ablation: feed the clip's own mel to the background encoder",
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda:0...")
    p.add_argument("--batch-size", type=int, default=8, help="clips per generator call")
    p.add_argument("--overwrite", action="store_true", help="redo finished clips")
    p.add_argument("--strict", type=str2bool, default=False, help="stop at the first failure")
    return p


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Run stage 3; 0 unless every clip failed (1), 2 for a bad input or option."""
    args = build_parser().parse_args(argv)
    if args.policy == "pairs" and not args.pairs:
        raise ConfigError("--policy pairs needs --pairs FILE")
    sweep_temporaries(args.out)
    from vs_plugin.infer.generate_set import GenerateSetConfig, generate_set
    from vs_plugin.infer.generation import GenerationConfig
    from vs_plugin.utils.device import pick_device

    device = pick_device(args.device)
    if "{category}" in args.model:
        from vs_plugin.data.kaldi_dir import UTT2CATEGORY, read_data_dir

        data = read_data_dir(args.data, required=(UTT2CATEGORY,), optional=())
        cats = sorted(set(data.category.values()))
        model = {c: load_model(args.model.replace("{category}", c), device) for c in cats}
    else:
        model = load_model(args.model, device)
    cfg = GenerateSetConfig(
        policy=args.policy,
        pairs_file=args.pairs,
        seed=args.seed,
        with_background=args.with_background,
        batch_size=args.batch_size,
        overwrite=args.overwrite,
        strict=args.strict,
    )
    gen = GenerationConfig(
        drop_temporal=args.drop_temporal, drop_timbre=args.drop_timbre, seed=args.seed
    )
    counts = generate_set(model, args.data, args.dump, args.out, cfg, gen)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 1 if counts["failed"] and not counts["done"] and not counts["skipped"] else 0


if __name__ == "__main__":
    sys.exit(main())
