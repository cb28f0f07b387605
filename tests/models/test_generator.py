"""The generator: paper sizes, odd lengths, any reference, ablation switches."""

from __future__ import annotations

import pytest
import torch

from vs_plugin.models.presets import build_generator, generator_spec


@pytest.fixture(scope="module")
def paper_gen():
    torch.manual_seed(0)
    return build_generator(generator_spec("paper")).eval()


@pytest.fixture(scope="module")
def tiny_gen():
    torch.manual_seed(0)
    return build_generator(generator_spec("tiny", video_dim=24)).eval()


@pytest.mark.slow  # ~70 GFLOPs: 10-80 s on a busy 2-core CPU
def test_paper_sizes(paper_gen) -> None:
    video = torch.randn(1, 2048, 215)
    mel = torch.randn(1, 80, 860)
    with torch.no_grad():
        out = paper_gen(video, mel, mel)
    assert out.shape == (1, 80, 860)
    assert torch.isfinite(out).all()


def test_paper_odd_lengths_and_short_reference(paper_gen) -> None:
    video = torch.randn(2, 2048, 37)
    ref = torch.randn(2, 80, paper_gen.min_reference_frames)
    out = paper_gen.generate(video, ref)
    assert out.shape == (2, 80, 148)


@pytest.mark.parametrize("t_video", [1, 2, 7, 37, 50])
@pytest.mark.parametrize("t_ref", [2, 13, 301])
def test_mel_is_always_4x_video(tiny_gen, t_video: int, t_ref: int) -> None:
    out = tiny_gen.generate(torch.randn(1, 24, t_video), torch.randn(1, 80, t_ref))
    assert out.shape == (1, 80, 4 * t_video)


def test_generate_uses_a_silent_background(tiny_gen) -> None:
    video, ref = torch.randn(1, 24, 9), torch.randn(1, 80, 30)
    silent = tiny_gen.silent_background(ref, 36)
    expected = tiny_gen(video, ref, silent).detach()
    assert torch.allclose(tiny_gen.generate(video, ref), expected, atol=1e-5)
    real_bg = torch.randn(1, 80, 36)  # adding the background back changes the output
    assert not torch.allclose(tiny_gen.generate(video, ref, real_bg), tiny_gen.generate(video, ref))


@pytest.mark.parametrize("which", ["drop_temporal", "drop_timbre"])
def test_ablation_switches(tiny_gen, which: str) -> None:
    torch.manual_seed(0)
    video, ref = torch.randn(1, 24, 9), torch.randn(1, 80, 30)
    bg = torch.randn(1, 80, 36)
    base = tiny_gen.generate(video, ref, bg)
    zeros = tiny_gen.generate(video, ref, bg, **{which: "zeros"})
    noise_a = tiny_gen.generate(video, ref, bg, **{which: "noise"})
    noise_b = tiny_gen.generate(video, ref, bg, **{which: "noise"})
    assert not torch.allclose(base, zeros)
    assert not torch.allclose(noise_a, noise_b)  # fresh noise each call
    # the dropped code really is gone: changing that input no longer changes the output
    if which == "drop_temporal":
        other = tiny_gen.generate(torch.randn(1, 24, 9), ref, bg, drop_temporal="zeros")
    else:
        other = tiny_gen.generate(video, torch.randn(1, 80, 50), bg, drop_timbre="zeros")
    assert torch.allclose(zeros, other)
    with pytest.raises(ValueError, match="drop mode"):
        tiny_gen.generate(video, ref, **{which: "ones"})


def test_bad_shapes_are_rejected(tiny_gen) -> None:
    with pytest.raises(ValueError, match="video must be"):
        tiny_gen.generate(torch.randn(1, 23, 9), torch.randn(1, 80, 30))
    with pytest.raises(ValueError, match="ref_mel must be"):
        tiny_gen.generate(torch.randn(1, 24, 9), torch.randn(1, 40, 30))
    with pytest.raises(ValueError, match="at least"):
        tiny_gen.generate(torch.randn(1, 24, 9), torch.randn(1, 80, 1))


def test_bf16_autocast_cpu(tiny_gen) -> None:
    video, ref = torch.randn(1, 24, 9), torch.randn(1, 80, 30)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = tiny_gen.generate(video, ref)
    assert out.shape == (1, 80, 36) and torch.isfinite(out.float()).all()


def test_no_background_ablation_builds() -> None:
    gen = build_generator(generator_spec("tiny", video_dim=24, use_background=False))
    assert gen.background_encoder is None
    assert gen.generate(torch.randn(1, 24, 5), torch.randn(1, 80, 9)).shape == (1, 80, 20)


def _with_silence(**overrides) -> torch.nn.Module:
    torch.manual_seed(0)
    gen = build_generator(generator_spec("tiny", video_dim=24, **overrides))
    gen.set_silence(torch.linspace(-3.0, -1.0, 80))
    return gen


def test_silence_is_per_bin_and_independent_of_the_batch() -> None:
    gen = _with_silence().eval()
    quiet, loud = torch.randn(1, 80, 30) - 5.0, torch.randn(1, 80, 30) + 5.0
    alone = gen.silent_background(quiet, 12)
    batched = gen.silent_background(torch.cat([quiet, loud]), 12)
    assert torch.equal(alone[0], batched[0]) and torch.equal(batched[0], batched[1])
    assert torch.allclose(alone[0, :, 0], torch.linspace(-3.0, -1.0, 80))
    video = torch.randn(1, 24, 9)
    one = gen.generate(video, quiet)
    two = gen.generate(torch.cat([video, torch.randn(1, 24, 9)]), torch.cat([quiet, loud]))
    assert torch.allclose(one[0], two[0], atol=1e-5)  # a clip's output ignores its batch-mates


def test_silence_travels_with_the_weights_and_old_checkpoints_load() -> None:
    gen = _with_silence()
    state = gen.state_dict()
    fresh = build_generator(generator_spec("tiny", video_dim=24))
    assert not fresh.has_silence
    fresh.load_state_dict(state)
    assert fresh.has_silence and torch.equal(fresh.silence_mel, gen.silence_mel)
    old = {k: v for k, v in state.items() if "silence" not in k}
    legacy = build_generator(generator_spec("tiny", video_dim=24))
    legacy.load_state_dict(old)  # a checkpoint from before the silence was recorded
    assert not legacy.has_silence


def test_energy_mask_fills_the_recorded_silence() -> None:
    gen = _with_silence()
    mel = torch.randn(2, 80, 40)
    masked = gen.background_encoder.mask(mel)
    loud = (masked != mel).any(dim=1)
    assert loud.any()
    for b in range(2):
        assert torch.allclose(
            masked[b][:, loud[b]], gen.silence_mel[:, None].expand(-1, int(loud[b].sum()))
        )


def test_background_dropout_only_in_training() -> None:
    gen = _with_silence(background_dropout=1.0)
    video, ref, bg = torch.randn(2, 24, 9), torch.randn(2, 80, 30), torch.randn(2, 80, 36)
    gen.train()
    torch.manual_seed(1)
    dropped = gen.encode(video, ref, bg)
    torch.manual_seed(1)
    silent = gen.encode(video, ref, None)
    bg_ch = gen.background_encoder.out_channels
    assert torch.allclose(dropped[:, -bg_ch:], silent[:, -bg_ch:], atol=1e-6)
    gen.eval()  # at inference a given background is used as given
    assert not torch.allclose(
        gen.encode(video, ref, bg)[:, -bg_ch:], gen.encode(video, ref)[:, -bg_ch:]
    )
    with pytest.raises(ValueError, match="background_dropout"):
        build_generator(generator_spec("tiny", video_dim=24, background_dropout=1.5))


def test_eval_draws_average_seeded_resampling() -> None:
    torch.manual_seed(0)
    spec = generator_spec("tiny", video_dim=24, acoustic_encoder={"eval_draws": 4})
    gen = build_generator(spec).eval()
    enc = gen.acoustic_encoder
    ref = torch.randn(1, 80, 60)
    a = enc.encode(ref)
    state = torch.get_rng_state()
    b = enc.encode(ref)
    assert torch.equal(a, b)  # seeded: one reference, one timbre vector
    assert torch.equal(state, torch.get_rng_state())  # the global random state is untouched
    enc.cfg.eval_draws = 0
    assert not torch.allclose(enc.encode(ref), a)  # R off differs from the averaged draws
    assert not enc.resample.forced


def test_generator_passes_the_reference_to_an_attending_decoder_unless_timbre_is_dropped():
    torch.manual_seed(0)
    spec = generator_spec("tiny", video_dim=24)
    spec["decoder"]["reference_attention"] = True
    gen = build_generator(spec).eval()
    for layer in gen.decoder.reference_attn:
        torch.nn.init.normal_(layer.attn.out_proj.weight)
    video = torch.randn(1, gen.video_dim, 8)
    ref1, ref2 = torch.randn(1, gen.n_mels, 40), torch.randn(1, gen.n_mels, 40)
    with torch.no_grad():
        assert not torch.allclose(gen(video, ref1), gen(video, ref2), atol=1e-4)
        bg = torch.randn(1, gen.n_mels, 32)  # (else the untrained model's silence is ref_mel.min())
        out = gen(video, ref1, bg, drop_timbre="zeros")
        torch.testing.assert_close(out, gen(video, ref2, bg, drop_timbre="zeros"))
