#!/usr/bin/env python
"""Parameter counts and forward FLOPs of a model preset, per module, for one 10 s clip.

FLOPs come from ``torch.utils.flop_counter.FlopCounterMode`` on CPU (B=1, video
``video_dim x 215``, mel ``n_mels x 860``, a 10 s reference and background); they count the
matrix products, convolutions and attention that torch reports, not element-wise ops.
FlopCounterMode does not see inside ``nn.LSTM``, so LSTM FLOPs are added analytically
(2 x 4H(I + H) multiply-adds per step, layer and direction), counted by forward hooks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from vs_plugin.models.presets import (
    PRESETS,
    build_discriminators,
    build_generator,
    discriminator_specs,
    generator_spec,
)
from vs_plugin.utils.files import write_text_atomic


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _lstm_flops(lstm: torch.nn.LSTM, x: torch.Tensor) -> int:
    """Gate matmul FLOPs of one batch-first LSTM call (what FlopCounterMode misses)."""
    batch, steps = x.shape[0], x.shape[1]
    dirs = 2 if lstm.bidirectional else 1
    total = 0
    for layer in range(lstm.num_layers):
        in_size = lstm.input_size if layer == 0 else dirs * lstm.hidden_size
        total += dirs * 2 * 4 * lstm.hidden_size * (in_size + lstm.hidden_size)
    return total * batch * steps


def count_flops(fn, model: torch.nn.Module) -> int:
    extra = [0]

    def hook(module, args, _out):
        extra[0] += _lstm_flops(module, args[0])

    handles = [
        m.register_forward_hook(hook) for m in model.modules() if isinstance(m, torch.nn.LSTM)
    ]
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            fn()
    finally:
        for h in handles:
            h.remove()
    return int(counter.get_total_flops()) + extra[0]


def report(preset: str, video_frames: int = 215) -> dict:
    torch.manual_seed(0)
    gen = build_generator(generator_spec(preset)).eval()
    discs = build_discriminators(
        discriminator_specs(preset), gen.n_mels, gen.video_dim, gen.upsample
    ).eval()
    mel_frames = gen.upsample * video_frames
    video = torch.randn(1, gen.video_dim, video_frames)
    mel = torch.randn(1, gen.n_mels, mel_frames)
    length = video_frames
    out: dict = {
        "preset": preset,
        "input": {"video": list(video.shape), "mel": list(mel.shape)},
        "generator": {
            "params": n_params(gen),
            "flops": count_flops(lambda: gen(video, mel, mel), gen),
            "modules": {},
        },
        "discriminators": {},
    }
    codes = gen.encode(video, mel, mel)
    parts = {
        "temporal_encoder": lambda: gen.temporal_encoder(video),
        "acoustic_encoder": lambda: gen.acoustic_encoder(mel, length),
        "background_encoder": lambda: gen.background_encoder(mel, length),
        "decoder": lambda: gen.decoder(codes),
    }
    for name, fn in parts.items():
        module = getattr(gen, name)
        if module is None:
            continue
        out["generator"]["modules"][name] = {
            "params": n_params(module),
            "flops": count_flops(fn, module),
        }
    for name, disc in zip(discs.names, discs):
        out["discriminators"][name] = {
            "params": n_params(disc),
            "flops": count_flops(lambda d=disc: d(mel, video), disc),
        }
    return out


def _table(rep: dict) -> str:
    rows = [("generator", rep["generator"]["params"], rep["generator"]["flops"])]
    rows += [(f"  {k}", v["params"], v["flops"]) for k, v in rep["generator"]["modules"].items()]
    rows += [(f"D {k}", v["params"], v["flops"]) for k, v in rep["discriminators"].items()]
    lines = [f"preset {rep['preset']}: video {rep['input']['video']}, mel {rep['input']['mel']}"]
    lines.append(f"{'module':<22}{'params (M)':>12}{'GFLOPs/clip':>14}")
    lines += [f"{n:<22}{p / 1e6:>12.2f}{f / 1e9:>14.2f}" for n, p, f in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="paper", choices=sorted(PRESETS))
    parser.add_argument("--video-frames", type=int, default=215, help="215 = 10 s at 21.5 fps")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    rep = report(args.preset, args.video_frames)
    print(_table(rep))
    if args.json:
        write_text_atomic(args.json, json.dumps(rep, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
