"""The three encoders: bottleneck width, energy masking, timbre vector over time."""

from __future__ import annotations

import pytest
import torch

from vs_plugin.models.encoders.acoustic import SGAUAcousticConfig, SGAUAcousticEncoder
from vs_plugin.models.encoders.background import (
    EnergyMaskLSTMBackgroundConfig,
    EnergyMaskLSTMBackgroundEncoder,
    energy_mask,
    frame_energy,
)
from vs_plugin.models.encoders.temporal import ConvLSTMTemporalConfig, ConvLSTMTemporalEncoder
from vs_plugin.registry import TEMPORAL_ENCODERS


def test_temporal_bottleneck_has_8_channels_per_frame() -> None:
    enc = TEMPORAL_ENCODERS.build({"name": "conv_lstm", "channels": 32, "n_convs": 2}, 48)
    enc.eval()
    out = enc(torch.randn(2, 48, 23))
    assert out.shape == (2, 8, 23)
    assert enc.out_channels == 8
    assert enc.bottleneck.out_features == 8  # the last layer really is 8 wide


def test_temporal_paper_structure() -> None:
    enc = ConvLSTMTemporalEncoder(ConvLSTMTemporalConfig(), 2048)
    convs = [m for m in enc.convs if isinstance(m, torch.nn.Conv1d)]
    assert len(convs) == 8 and all(c.kernel_size == (5,) and c.out_channels == 512 for c in convs)
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in enc.convs) == 8
    lstm = enc.lstm.lstm
    assert (lstm.num_layers, lstm.hidden_size, lstm.bidirectional) == (2, 256, True)


def test_energy_mask_zeroes_exactly_the_loud_frames() -> None:
    torch.manual_seed(0)
    mel = torch.randn(2, 10, 9)
    out = energy_mask(mel, silence_value=-4.0)
    e = mel.mean(dim=1)
    for b in range(2):
        median = e[b].median()
        loud = e[b] > median
        assert loud.sum() == 4  # 9 frames: 4 above the median
        assert torch.all(out[b][:, loud] == -4.0)
        assert torch.equal(out[b][:, ~loud], mel[b][:, ~loud])


def test_energy_mask_default_silence_is_the_mel_minimum() -> None:
    mel = torch.tensor([[[0.0, 5.0, 1.0, 6.0, -2.0]]])
    out = energy_mask(mel)
    assert out.tolist() == [[[0.0, -2.0, 1.0, -2.0, -2.0]]]


def test_exp_sum_energy_uses_linear_band_energy() -> None:
    # frame 0: one very loud band; frame 1: all bands moderately loud. Their means rank the
    # frames one way, the linear energy (sum of exp) the other.
    mel = torch.tensor([[[8.0, 3.0], [-10.0, 3.0], [-10.0, 3.0]]])
    assert frame_energy(mel, "mean")[0, 0] < frame_energy(mel, "mean")[0, 1]
    assert frame_energy(mel, "exp_sum")[0, 0] > frame_energy(mel, "exp_sum")[0, 1]
    with pytest.raises(ValueError, match="energy"):
        frame_energy(mel, "rms")


def test_silent_mel_stays_silent() -> None:
    silent = torch.full((1, 80, 50), -11.5)
    assert torch.equal(energy_mask(silent), silent)
    assert torch.equal(energy_mask(silent, silence_value=-11.5), silent)


def test_background_code_is_constant_over_time() -> None:
    enc = EnergyMaskLSTMBackgroundEncoder(EnergyMaskLSTMBackgroundConfig(lstm_hidden=8), 12)
    out = enc(torch.randn(3, 12, 40), 17)
    assert out.shape == (3, 16, 17)
    assert torch.allclose(out, out[..., :1].expand_as(out))


def test_background_ignores_the_loud_frames() -> None:
    enc = EnergyMaskLSTMBackgroundEncoder(EnergyMaskLSTMBackgroundConfig(lstm_hidden=8), 6).eval()
    quiet = torch.randn(1, 6, 30) * 0.1 - 5.0
    loud_a, loud_b = quiet.clone(), quiet.clone()
    loud_a[..., 5:10] += 9.0  # the same loud event with two different timbres
    loud_b[..., 5:10] += torch.linspace(1.0, 17.0, 6).unsqueeze(-1)
    assert torch.allclose(enc(loud_a, 4), enc(loud_b, 4))


def _tiny_sgau(**kw) -> SGAUAcousticEncoder:
    cfg = SGAUAcousticConfig(n_units=2, channels=16, norm_groups=4, lstm_hidden=8, **kw)
    return SGAUAcousticEncoder(cfg, 10)


def test_acoustic_any_reference_length() -> None:
    enc = _tiny_sgau()
    for t_ref in (enc.min_frames, 7, 333):
        enc.train()
        out = enc(torch.randn(2, 10, t_ref), 11)
        assert out.shape == (2, 16, 11)
        assert torch.allclose(out, out[..., :1].expand_as(out))
    with pytest.raises(ValueError, match="at least"):
        enc(torch.randn(1, 10, 1), 5)


def test_acoustic_eval_is_deterministic_and_training_is_not() -> None:
    enc = _tiny_sgau()
    ref = torch.randn(1, 10, 120)
    enc.eval()
    assert torch.equal(enc.encode(ref), enc.encode(ref))
    enc.train()
    torch.manual_seed(0)
    assert not torch.allclose(enc.encode(ref), enc.encode(ref))  # R draws differ


def test_sgau_paper_structure() -> None:
    enc = SGAUAcousticEncoder(SGAUAcousticConfig(), 80)
    assert len(enc.units) == 5
    unit = enc.units[0]
    k = [m.kernel_size[0] for m in unit.input_gate if isinstance(m, torch.nn.Conv1d)]
    assert k == [5, 7]
    assert isinstance(unit.input_gate[-1], torch.nn.InstanceNorm1d)
    assert unit.output_gate[0].kernel_size == (3,) and unit.skip_gate[0].kernel_size == (5,)
    assert isinstance(unit.output_gate[1], torch.nn.GroupNorm)
    assert unit.input_gate[0].in_channels == 80 and unit.skip_gate[0].in_channels == 80
    assert enc.out_channels == 512


def test_first_unit_gets_the_same_tensor_on_both_inputs() -> None:
    enc = _tiny_sgau()
    seen = []
    enc.units[0].register_forward_pre_hook(lambda _m, args: seen.append(args))
    enc.units[1].register_forward_pre_hook(lambda _m, args: seen.append(args))
    enc.train()(torch.randn(1, 10, 40), 3)
    (x0, c0), (x1, c1) = seen
    assert x0 is c0
    assert x1.shape == c1.shape and not torch.equal(x1, c1)


def test_stricter_masking_keeps_only_quiet_frames_and_masks_tails() -> None:
    energy = torch.arange(20, dtype=torch.float32)  # frame t has energy t
    mel = energy.view(1, 1, 20).expand(1, 4, 20).clone()
    strict = energy_mask(mel, -1.0, quantile=0.3)
    kept = (strict[0, 0] != -1.0).nonzero().flatten().tolist()
    assert kept == list(range(6))  # the lower 30 % (frames 0..5); the median keeps 0..9
    assert (energy_mask(mel, -1.0)[0, 0] != -1.0).sum() == 10
    spike = torch.zeros(1, 4, 20)
    spike[..., 5] = 9.0  # one loud frame: it and the 3 after it are masked
    masked = energy_mask(spike, -1.0, tail_frames=3)[0, 0]
    assert (masked == -1.0).nonzero().flatten().tolist() == [5, 6, 7, 8]
    with pytest.raises(ValueError, match="quantile"):
        energy_mask(mel, -1.0, quantile=0.0)


def test_event_only_reference_ignores_the_quiet_frames() -> None:
    torch.manual_seed(0)
    cfg = SGAUAcousticConfig(n_units=1, channels=8, lstm_layers=1, lstm_hidden=4)
    cfg.event_quantile = 0.5
    enc = SGAUAcousticEncoder(cfg, 6).eval()
    ref = torch.rand(1, 6, 40)
    ref[..., ::2] += 10.0  # the even frames are the loud half
    ref[0, 0, 1] = -5.0  # the fill level of the masked frames: the mel's minimum
    other_quiet = ref.clone()
    other_quiet[..., 3::2] = torch.rand(1, 6, 19)  # change only (other) quiet frames
    assert torch.allclose(enc.encode(ref), enc.encode(other_quiet), atol=1e-6)
    cfg.event_quantile = 0.0
    assert not torch.allclose(enc.encode(ref), enc.encode(other_quiet), atol=1e-6)


def test_last_plus_mean_pooling_keeps_the_final_state_and_adds_the_frame_average() -> None:
    torch.manual_seed(0)
    cfg = SGAUAcousticConfig(n_units=1, channels=8, lstm_layers=1, lstm_hidden=4)
    last = SGAUAcousticEncoder(cfg, 6).eval()
    both = SGAUAcousticEncoder(SGAUAcousticConfig(**{**vars(cfg), "pooling": "last+mean"}), 6)
    both.load_state_dict(last.state_dict())
    both.eval()
    ref = torch.randn(2, 6, 30)
    assert both.out_channels == 2 * last.out_channels == 16
    vec = both.encode(ref)
    assert torch.allclose(vec[:, :8], last.encode(ref), atol=1e-6)  # the paper's half
    x, c = ref, ref
    for unit in both.units:  # in eval mode R is the identity
        x, c = unit(x, c)
    assert torch.allclose(vec[:, 8:], both.lstm(x).mean(dim=-1), atol=1e-6)
    assert both(ref, 5).shape == (2, 16, 5)
    with pytest.raises(ValueError, match="pooling"):
        SGAUAcousticEncoder(SGAUAcousticConfig(pooling="max"), 6)


def test_film_decoder_starts_as_the_plain_decoder_and_conditions_on_the_codes() -> None:
    from vs_plugin.models.decoder import FFTDecoder, FFTDecoderConfig

    torch.manual_seed(0)
    small = {"upsample_channels": 16, "n_blocks": 2, "hidden": 16, "conv_filter": 16}
    plain = FFTDecoder(FFTDecoderConfig(**small, dropout=0.0), 12, 10).eval()
    film = FFTDecoder(FFTDecoderConfig(**small, dropout=0.0, film=True), 12, 10).eval()
    film.load_state_dict(plain.state_dict(), strict=False)
    codes = torch.randn(2, 12, 7)
    assert torch.allclose(plain(codes), film(codes), atol=1e-6)  # zero-initialised FiLM
    torch.nn.init.normal_(film.film.weight)
    shifted = codes + torch.tensor([0.0] * 11 + [1.0]).view(1, 12, 1)  # a constant code moves
    assert not torch.allclose(film(codes), film(shifted), atol=1e-4)


def test_stats_pool_is_blind_to_the_order_of_events_and_the_same_in_training() -> None:
    """Swapping two events of a reference (silence between) leaves the vector unchanged; the
    vector is deterministic in training mode too (no random draw); any length >= 2 frames."""
    from vs_plugin.errors import ConfigError
    from vs_plugin.models.encoders.stats_pool import (
        StatsPoolAcousticConfig,
        StatsPoolAcousticEncoder,
    )

    torch.manual_seed(0)
    enc = StatsPoolAcousticEncoder(StatsPoolAcousticConfig(channels=32, out_channels=16), 20)
    a, b = torch.randn(1, 20, 6), 2 + torch.randn(1, 20, 9)
    quiet = torch.full((1, 20, 12), -3.0)
    ab = torch.cat([quiet, a, quiet, b, quiet], dim=-1)
    ba = torch.cat([quiet, b, quiet, a, quiet], dim=-1)
    enc.train()
    v_ab, v_ba = enc.encode(ab), enc.encode(ba)
    torch.testing.assert_close(v_ab, v_ba, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(enc.encode(ab), v_ab)
    assert not torch.allclose(enc.encode(torch.cat([quiet, a, quiet], -1)), v_ab, atol=1e-3)
    assert enc(ab, 7).shape == (1, 16, 7) and enc.encode(ab[..., :2]).shape == (1, 16)
    with pytest.raises(ValueError, match="at least 2"):
        enc.encode(ab[..., :1])
    with pytest.raises(ConfigError, match="odd"):
        StatsPoolAcousticEncoder(StatsPoolAcousticConfig(kernels=[4]), 20)


def test_reference_attention_starts_plain_copies_by_content_and_ignores_reference_order():
    """The decoder's attention over the reference's frames: zero-initialised (the plain
    decoder at first), then the reference matters, but not the order of its events."""
    from vs_plugin.models.decoder import FFTDecoder, FFTDecoderConfig

    torch.manual_seed(0)
    small = {"upsample_channels": 16, "n_blocks": 2, "hidden": 16, "conv_filter": 16}
    plain = FFTDecoder(FFTDecoderConfig(**small, dropout=0.0), 12, 10).eval()
    att = FFTDecoder(FFTDecoderConfig(**small, dropout=0.0, reference_attention=True), 12, 10)
    att.load_state_dict(plain.state_dict(), strict=False)
    att.eval()
    codes = torch.randn(2, 12, 7)
    a, b = torch.randn(2, 10, 5), 1 + torch.randn(2, 10, 8)
    quiet = torch.full((2, 10, 6), -2.0)
    ab = torch.cat([quiet, a, quiet, b, quiet], dim=-1)
    ba = torch.cat([quiet, b, quiet, a, quiet], dim=-1)
    assert att.uses_reference and not plain.uses_reference
    assert torch.allclose(plain(codes), att(codes, ab), atol=1e-6)  # zero-initialised
    for layer in att.reference_attn:
        torch.nn.init.normal_(layer.attn.out_proj.weight)
    assert not torch.allclose(att(codes, ab), att(codes, quiet), atol=1e-4)
    torch.testing.assert_close(att(codes, ab), att(codes, ba), atol=1e-5, rtol=1e-5)
    assert att(codes, None).shape == att(codes, ab).shape == (2, 10, 28)
