"""The tiny preset learns: it overfits two real-looking clips on CPU in about a minute."""

from __future__ import annotations

import pytest
import torch

from vs_plugin.models.presets import build_generator, generator_spec
from vs_plugin.train.losses import mel_loss


@pytest.mark.slow  # ~100 Adam steps: 30-70 s on a busy 2-core CPU
def test_tiny_preset_overfits_two_examples(event_batch) -> None:
    mel, video = event_batch["mel"], event_batch["video"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops: threads only add contention
    try:
        torch.manual_seed(0)
        gen = build_generator(generator_spec("tiny", video_dim=video.shape[1]))
        opt = torch.optim.Adam(gen.parameters(), lr=1e-3)

        def eval_l1() -> float:
            gen.eval()
            with torch.no_grad():
                value = mel_loss(gen(video, mel, mel), mel).item()
            gen.train()
            return value

        start = eval_l1()
        best = start
        for step in range(200):
            loss = mel_loss(gen(video, mel, mel), mel)  # R and EM active: training mode
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 10 == 9:
                best = min(best, eval_l1())
                if best * 10 <= start:  # well past the 5x asked for
                    break
    finally:
        torch.set_num_threads(threads)
    assert best * 5 <= start, (start, best)
    # the output follows the events in time (frame loudness) and in timbre (spectrum)
    gen.eval()
    with torch.no_grad():
        out = gen(video, mel, mel)

    def corr(a: torch.Tensor, b: torch.Tensor) -> float:
        return torch.corrcoef(torch.stack([a, b]))[0, 1].item()

    def event_spectrum(m: torch.Tensor) -> torch.Tensor:
        energy = m.mean(0)
        return m[:, energy > energy.median()].mean(1)

    for b in range(2):
        loudness = corr(out[b].mean(0), mel[b].mean(0))
        assert loudness > 0.9, ("loudness", b, loudness)
        own = corr(event_spectrum(out[b]), event_spectrum(mel[b]))
        other = corr(event_spectrum(out[b]), event_spectrum(mel[1 - b]))
        assert own > 0.8 and own > other, ("timbre", b, own, other)
