#!/usr/bin/env python3
"""Measure a trained model under the inference condition, on mels (no vocoder): fast.

For each reference policy, every clip of a dump set is generated with *every* admissible
reference (``shuffled``: each other clip of its category; ``cross``: each clip of another
category) and a silent background, and scored with the
trainer's validation metrics (``vs_plugin.train.validation``): onset F1 of the mel-domain
proxy, MFCC similarity and leakage, reference-match rate, L1 to the ideal output where the
corpus renders it. Means come with 95 % confidence intervals (Student t) over pairs
(pairs share clips, so the intervals are optimistic; compare settings on the same pairs).

    tools/quality.py --model egs/vas/exp/vas_tiny/model --dump egs/vas/dump --set test \\
        --policies shuffled cross --eval-draws 0 8 --json out.jsonl
    tools/quality.py table out.jsonl      # the results as a Markdown table

``--oneshot SECONDS``: every reference is a one-shot instead of a whole clip: SECONDS of the
reference clip's conformed audio from its first event (true event times), made ready exactly
as ``vs-generate`` makes a reference file (``vs_plugin.infer.single.load_reference``: trimmed
to its sound and tiled if short).

The recipe's stage 5 scores the vocoded audio; this tool is for comparing training settings
quickly (docs/QUALITY.md lists every experiment and the command that made it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

from vs_plugin.data.dataset import DumpDataset, collate
from vs_plugin.errors import InputError
from vs_plugin.models.export import load_exported
from vs_plugin.scoring.stats import mean_ci
from vs_plugin.train.validation import InferenceConditionMetrics, fit_source_classifier

POLICIES = ("shuffled", "cross")
SHOWN = (
    "val_onset_f1",
    "val_ref_match",
    "val_mfcc_sim_ref",
    "val_mfcc_leakage",
    "val_ideal_l1",
    "val_mel_l1",
)


def _pairs(ds: DumpDataset, policy: str) -> list[tuple[int, str]]:
    """(video index, reference utt) for every admissible pair of ``policy``."""
    out = []
    for i, u in enumerate(ds.utts):
        for r in ds.utts:
            same_cat = ds.category[r] == ds.category[u]
            if r != u and (same_cat if policy == "shuffled" else not same_cat):
                out.append((i, r))
    return out


def evaluate(
    model_dir: Path,
    dump: Path,
    set_name: str,
    policy: str,
    eval_draws: int,
    seed: int,
    oracle: str | None = None,
    oneshot: float | None = None,
) -> dict[str, dict[str, float]]:
    """``{metric: {"mean", "ci95", "n"}}`` over every pair of one policy.

    ``oracle="ideal"`` / ``"original"`` scores the ideal output / the video's own sound in
    place of the model's output: the metrics' calibration (about 1 and 0 reference match).
    """
    per_category = "{category}" in str(model_dir)
    first = Path(str(model_dir).replace("{category}", "*"))
    if per_category:
        found = sorted(first.parent.parent.glob(first.parent.name))
        if not found:
            raise InputError(model_dir, "no per-category model folders match")
        stats_dir = found[0] / first.name
    else:
        stats_dir = Path(model_dir)
    stats = {s: stats_dir / f"{s}_stats.npz" for s in ("mel", "video")}
    ds = DumpDataset(dump / set_name, stats["mel"], stats["video"], train=False, seed=seed)
    cats = sorted(set(ds.category.values())) if per_category else [""]
    models = {c: load_exported(str(model_dir).replace("{category}", c)) for c in cats}
    for m in models.values():
        acoustic = m.generator.acoustic_encoder.eval()
        if hasattr(acoustic.cfg, "eval_draws"):
            acoustic.cfg.eval_draws = eval_draws
        m.generator.eval()
    model = next(iter(models.values()))
    train = DumpDataset(dump / "train", train=False)
    metrics = InferenceConditionMetrics(model.mel_stats, ds, fit_source_classifier(train))
    examples = [ds[i] for i in range(len(ds))]
    refs = {ex["utt"]: ex["mel"] for ex in examples}
    if oneshot is not None:
        refs = _oneshot_refs(model, ds, dump / set_name, oneshot)
    pairs = _pairs(ds, policy)
    with torch.inference_mode():
        for start in range(0, len(pairs), 16):
            batch = []
            chunk = pairs[start : start + 16]
            for i, r in chunk:
                ex = dict(examples[i], ref_utt=r, ref_mel=refs[r])
                ideal = ds.ideal_mel(ex["utt"], r)
                if ideal is not None:
                    ex["ideal_mel"] = torch.from_numpy(ideal.T.copy())
                batch.append(ex)
            b = collate(batch)
            if oracle == "ideal":
                out = b["ideal_mel"]
            elif oracle == "original":
                out = b["mel"]
            else:
                out = torch.cat(
                    [
                        models[ds.category[ex["utt"]] if per_category else ""].generator(
                            ex["video"][None], ex["ref_mel"][None], None
                        )
                        for ex in batch
                    ]
                )
            metrics.update(b, out)
    out = {}
    for name in sorted({k for r in metrics.rows for k in r}):
        ci = mean_ci([r[name] for r in metrics.rows if name in r])
        out[name] = {"mean": ci.mean, "ci95": ci.ci95, "n": ci.n}
    return out


def _oneshot_refs(model, ds: DumpDataset, dump_set: Path, seconds: float) -> dict:
    """Each clip's one-shot reference: normalised mel ``(n_mels, T)``, as vs-generate makes it."""
    import numpy as np
    import soundfile as sf

    from vs_plugin.data.kaldi_dir import read_data_dir
    from vs_plugin.infer.single import load_reference

    data = read_data_dir(dump_set.parent.parent / "data" / dump_set.name, required=("wav.scp",))
    out = {}
    with tempfile.TemporaryDirectory(prefix="oneshot_") as tmp:
        for utt in ds.utts:
            wav, sr = sf.read(data.wav[utt], dtype="float32", always_2d=True)
            events = ds.events.get(utt) or [0.0]
            a = int(round(events[0] * sr))
            piece = wav[a : a + int(round(seconds * sr)), 0]
            path = Path(tmp) / f"{utt}.wav"
            sf.write(path, piece, sr)
            mel = load_reference(path, model)  # raw (T, n_mels)
            out[utt] = torch.from_numpy(np.ascontiguousarray(model.mel_stats.transform(mel).T))
    return out


def table(jsonl: Path) -> str:
    """A Markdown table of a results file (the last row of each model/setting/policy)."""
    rows: dict[tuple, dict] = {}
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            key = (r["model"], r.get("oracle"), r["eval_draws"], r.get("oneshot"), r["policy"])
            rows[key] = r
    cols = [k for k in SHOWN if any(k in r["metrics"] for r in rows.values())]
    out = ["| model | setting | policy | " + " | ".join(c[4:] for c in cols) + " |"]
    out.append("|---" * (len(cols) + 3) + "|")
    for (model, oracle, draws, oneshot, policy), r in rows.items():
        cells = []
        for c in cols:
            m = r["metrics"].get(c)
            cells.append(f"{m['mean']:.3f} ± {m['ci95']:.3f}" if m else "n/a")
        setting = f"oracle: {oracle}" if oracle else f"eval R draws {draws}"
        if oneshot:
            setting += f", one-shot references of {oneshot:g} s"
        out.append(f"| {model} | {setting} | {policy} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["table"]:
        print(table(Path(argv[1])))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--model",
        type=Path,
        required=True,
        action="append",
        help="exported model dir; with '{category}' in it, one model per video category",
    )
    p.add_argument("--dump", type=Path, required=True, help="the recipe's dump dir")
    p.add_argument("--set", default="test", help="dump set to generate (default test)")
    p.add_argument("--policies", nargs="+", default=["shuffled", "cross"], choices=POLICIES)
    p.add_argument("--eval-draws", nargs="+", type=int, default=[None], help="R draws at eval")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--oracle",
        choices=("ideal", "original"),
        help="score the ideal output or the video's own sound instead (calibration)",
    )
    p.add_argument(
        "--oneshot",
        type=float,
        help="references are one-shots of this many seconds from each clip's first event",
    )
    p.add_argument("--json", type=Path, help="append the results here (JSON lines)")
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    try:
        for model_dir in args.model:
            for draws in args.eval_draws:
                for policy in args.policies:
                    res = evaluate(
                        model_dir, args.dump, args.set, policy, draws or 0, args.seed, args.oracle,
                        args.oneshot,
                    )
                    shown = " ".join(
                        f"{k[4:]}={res[k]['mean']:.3f}±{res[k]['ci95']:.3f}"
                        for k in SHOWN
                        if k in res
                    )
                    what = f"oracle={args.oracle}" if args.oracle else f"draws={draws or 0}"
                    if args.oneshot:
                        what += f" oneshot={args.oneshot:g}s"
                    print(f"{model_dir} {what} {policy}: {shown}", flush=True)
                    if args.json:
                        row = {
                            "model": str(model_dir),
                            "eval_draws": draws or 0,
                            "policy": policy,
                            "oracle": args.oracle,
                            "set": args.set,
                            "oneshot": args.oneshot,
                        }
                        with args.json.open("a", encoding="utf-8") as f:
                            f.write(json.dumps({**row, "metrics": res}) + "\n")
    except InputError as exc:
        print(f"quality: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
