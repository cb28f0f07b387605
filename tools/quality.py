#!/usr/bin/env python3
"""Measure a trained model under the inference condition, on mels (no vocoder): fast.

For each reference policy, every clip of a dump set is generated with a fixed reference
(``shuffled``: another clip of its category; ``cross``: a clip of another category;
``timbre``: another sound source where known) and a silent background, and scored with the
trainer's validation metrics (``vs_plugin.train.validation``): onset F1 of the mel-domain
proxy, MFCC similarity and leakage, reference-match rate, L1 to the ideal output where the
corpus renders it. Means come with 95 % confidence intervals (Student t) over clips.

    tools/quality.py --model egs/vas/exp/vas_tiny/model --dump egs/vas/dump --set test \\
        --policies shuffled cross --eval-draws 0 8 --json out.json

The recipe's stage 5 scores the vocoded audio; this tool is for comparing training settings
quickly (docs/QUALITY.md lists every experiment and the command that made it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from vs_plugin.data.dataset import DumpDataset, collate
from vs_plugin.errors import InputError
from vs_plugin.models.export import load_exported
from vs_plugin.scoring.stats import mean_ci
from vs_plugin.train.validation import InferenceConditionMetrics, fit_source_classifier

POLICIES = {"shuffled": "other_same_category", "cross": "other_category", "timbre": "other_timbre"}
SHOWN = (
    "val_onset_f1",
    "val_ref_match",
    "val_mfcc_sim_ref",
    "val_mfcc_leakage",
    "val_ideal_l1",
    "val_mel_l1",
)


def evaluate(
    model_dir: Path, dump: Path, set_name: str, policy: str, eval_draws: int, seed: int
) -> dict[str, dict[str, float]]:
    """``{metric: {"mean", "ci95", "n"}}`` for one policy and one eval-draw setting."""
    model = load_exported(model_dir)
    acoustic = model.generator.acoustic_encoder
    if hasattr(acoustic.cfg, "eval_draws"):
        acoustic.cfg.eval_draws = eval_draws
    stats = {s: model_dir / f"{s}_stats.npz" for s in ("mel", "video")}
    ds = DumpDataset(
        dump / set_name,
        stats["mel"],
        stats["video"],
        train=False,
        seed=seed,
        reference=POLICIES[policy],
    )
    if policy == "shuffled":  # a fixed other clip of the same category
        ds.reference = "other_same_category"
    train = DumpDataset(dump / "train", train=False)
    metrics = InferenceConditionMetrics(model.mel_stats, ds, fit_source_classifier(train))
    loader = torch.utils.data.DataLoader(ds, batch_size=8, collate_fn=collate)
    gen = model.generator.eval()
    with torch.inference_mode():
        for batch in loader:
            metrics.update(batch, gen(batch["video"], batch["ref_mel"], None))
    out = {}
    for name in sorted({k for r in metrics.rows for k in r}):
        ci = mean_ci([r[name] for r in metrics.rows if name in r])
        out[name] = {"mean": ci.mean, "ci95": ci.ci95, "n": ci.n}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, required=True, action="append", help="exported model dir")
    p.add_argument("--dump", type=Path, required=True, help="the recipe's dump dir")
    p.add_argument("--set", default="test", help="dump set to generate (default test)")
    p.add_argument("--policies", nargs="+", default=["shuffled", "cross"], choices=POLICIES)
    p.add_argument("--eval-draws", nargs="+", type=int, default=[None], help="R draws at eval")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, help="append the results here (JSON lines)")
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    try:
        for model_dir in args.model:
            for draws in args.eval_draws:
                for policy in args.policies:
                    res = evaluate(model_dir, args.dump, args.set, policy, draws or 0, args.seed)
                    shown = " ".join(
                        f"{k[4:]}={res[k]['mean']:.3f}±{res[k]['ci95']:.3f}"
                        for k in SHOWN
                        if k in res
                    )
                    print(f"{model_dir} draws={draws or 0} {policy}: {shown}", flush=True)
                    if args.json:
                        row = {"model": str(model_dir), "eval_draws": draws or 0, "policy": policy}
                        with args.json.open("a", encoding="utf-8") as f:
                            f.write(json.dumps({**row, "metrics": res}) + "\n")
    except InputError as exc:
        print(f"quality: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
