"""A SpeechSplit-style sound converter: the timbre-changing half of the cascade baseline.

Qian et al. (2020), "Unsupervised speech decomposition via triple information bottleneck";
sizes are the published ones (github.com/auspicious3000/SpeechSplit, ``hparams.py`` and the
``Generator_3`` model): a content encoder (3 Conv1d k5 512 ch + GroupNorm(32 groups), random
resampling after each, 2-layer BiLSTM with an 8-d bottleneck per direction), a rhythm encoder
on the un-resampled mel (1 Conv1d 128 ch + GroupNorm, 1-layer BiLSTM with a 1-d bottleneck),
a third "pitch" stream (3 Conv1d k5 256 ch, resampled jointly with the content, 1-layer
BiLSTM with a 32-d bottleneck); every code is kept at every 8th frame (forward direction at
the segment's end, backward at its start) and repeated back; a 3-layer BiLSTM (512) and a
Linear decode the codes plus the timbre embedding to a mel.

Departures, as the paper's Appendix C and foley sound require:

- **Timbre**: SpeechSplit's 82-way speaker one-hot is replaced by a sound embedding from a
  learnable LSTM over the reference mel (2 layers, 256 units, its top layer's final state
  through a Linear to ``embedding_dim`` = 82, the one-hot's width), trained jointly.
- **Pitch stream**: foley sounds have no reliable F0, so the stream that carries SpeechSplit's
  quantised log-F0 carries the source's **frame-energy contour** instead, in the same form: the
  frame mean of the (normalised) log-mel, scaled per clip to [0, 1] (SpeechSplit normalises F0
  per speaker), quantised into 256 bins, with a separate bin 0 for near-silent frames (the
  bottom ``silence_fraction`` of the clip's range; SpeechSplit's unvoiced bin), one-hot over
  257 channels. Loudness dynamics are what a foley clip's "prosody" is and, normalised per
  clip, they say little about timbre. ``pitch_stream="none"`` drops the stream.
- **Random resampling** follows SpeechSplit's InterpLnr: segments of 19-32 frames, each
  stretched by a factor in [0.5, 1.5], in order (no swapping), the result truncated or
  zero-padded to the input's length; identity in eval mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import repeat
from torch import nn

from vs_plugin.interfaces import Generator
from vs_plugin.models.resampling import RandomResampling, ResamplingConfig
from vs_plugin.registry import GENERATORS

PITCH_STREAMS = ("energy", "none")


@dataclass
class ConverterConfig:
    n_mels: int = 80
    video_dim: int = 2048  # unused (a converter never sees video); kept for the model format
    upsample: int = 4
    freq: int = 8  # codes are kept at every ``freq``-th frame (all three streams)
    content_channels: int = 512  # dim_enc
    content_neck: int = 8  # dim_neck
    rhythm_channels: int = 128  # dim_enc_2
    rhythm_neck: int = 1  # dim_neck_2
    pitch_stream: str = "energy"  # "energy" (see the module docstring) or "none"
    pitch_channels: int = 256  # dim_enc_3
    pitch_neck: int = 32  # dim_neck_3
    pitch_bins: int = 257  # dim_f0: 256 levels + the silent bin
    silence_fraction: float = 0.05
    group_size: int = 16  # chs_grp: channels per GroupNorm group
    embedding_dim: int = 82  # dim_spk_emb
    timbre_hidden: int = 256
    timbre_layers: int = 2
    decoder_hidden: int = 512
    decoder_layers: int = 3
    min_segment: int = 19
    max_segment: int = 32
    min_scale: float = 0.5
    max_scale: float = 1.5


def energy_contour(mel: torch.Tensor, bins: int = 257, silence_fraction: float = 0.05):
    """``(B, n_mels, T)`` log-mel -> one-hot ``(B, bins, T)`` of the quantised energy contour.

    Bin 0: frames in the bottom ``silence_fraction`` of the clip's energy range (or every
    frame of a constant clip); bins 1..bins-1: the energy scaled per clip to [0, 1].
    """
    e = mel.float().mean(dim=1)
    lo, hi = e.amin(-1, keepdim=True), e.amax(-1, keepdim=True)
    span = hi - lo
    unit = (e - lo) / span.clamp_min(1e-6)
    idx = 1 + (unit * (bins - 2)).round().long()
    silent = (unit <= silence_fraction) | (span <= 1e-6)
    idx = torch.where(silent, torch.zeros_like(idx), idx)
    return F.one_hot(idx, bins).transpose(1, 2).to(mel.dtype)


class InterpResample(nn.Module):
    """SpeechSplit's random resampling: ``(B, C, T)`` -> ``(B, C, T)``, identity in eval."""

    def __init__(self, cfg: ConverterConfig) -> None:
        super().__init__()
        self.r = RandomResampling(
            ResamplingConfig(
                min_segment=cfg.min_segment, max_segment=cfg.max_segment,
                min_scale=cfg.min_scale, max_scale=cfg.max_scale, swap=False, keep_length=False,
            )
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        t = x.shape[-1]
        out = []
        for i in range(x.shape[0]):
            pos = self.r.plan(t)[:t]
            y = RandomResampling.apply(x[i : i + 1], pos)
            out.append(F.pad(y, (0, t - y.shape[-1])))
        return torch.cat(out)


def _conv_gn(cin: int, cout: int, group_size: int) -> nn.Sequential:
    if cout % group_size:
        raise ValueError(
            f"converter: {cout} channels are not a multiple of group_size {group_size}"
        )
    return nn.Sequential(nn.Conv1d(cin, cout, 5, padding=2), nn.GroupNorm(cout // group_size, cout))


def _lstm(cin: int, hidden: int, layers: int) -> nn.LSTM:
    return nn.LSTM(cin, hidden, layers, batch_first=True, bidirectional=True)


def downsample_codes(h: torch.Tensor, neck: int, freq: int) -> torch.Tensor:
    """BiLSTM outputs ``(B, T, 2 neck)`` (T a multiple of ``freq``) -> ``(B, T, 2 neck)``.

    Keeps the forward half at each segment's last frame and the backward half at its first,
    then repeats each kept code over its ``freq`` frames (SpeechSplit's information bottleneck).
    """
    fwd = h[:, freq - 1 :: freq, :neck]
    bwd = h[:, ::freq, neck:]
    return repeat(torch.cat([fwd, bwd], dim=-1), "b seg c -> b (seg f) c", f=freq)


class TimbreLSTM(nn.Module):
    """Reference mel ``(B, n_mels, T_ref)`` -> a sound embedding ``(B, embedding_dim)``."""

    def __init__(self, cfg: ConverterConfig) -> None:
        super().__init__()
        self.lstm = nn.LSTM(cfg.n_mels, cfg.timbre_hidden, cfg.timbre_layers, batch_first=True)
        self.proj = nn.Linear(cfg.timbre_hidden, cfg.embedding_dim)

    def forward(self, ref_mel: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(ref_mel.transpose(1, 2))
        return self.proj(h[-1])


@GENERATORS.register("speechsplit_converter", config=ConverterConfig)
class SpeechSplitConverter(Generator):
    """Source mel + reference mel -> the source's content and rhythm in the reference's timbre.

    ``convert(source (B, n_mels, T), ref_mel (B, n_mels, T_ref))`` -> ``(B, n_mels, T)``; any
    ``T >= 1`` (padded internally to a multiple of ``freq``). ``forward(video, ref_mel,
    bg_mel=None, *, source)`` is the same with the Generator signature (the video and the
    background are ignored); trained by self-reconstruction (source = reference's clip).
    """

    def __init__(self, cfg: ConverterConfig) -> None:
        super().__init__()
        if cfg.pitch_stream not in PITCH_STREAMS:
            raise ValueError(f"converter: pitch_stream must be one of {PITCH_STREAMS}")
        self.cfg = cfg
        self.n_mels, self.video_dim, self.upsample = cfg.n_mels, cfg.video_dim, cfg.upsample
        g = cfg.group_size
        self.use_pitch = cfg.pitch_stream != "none"
        c, p = cfg.content_channels, cfg.pitch_channels
        self.content_convs = nn.ModuleList(
            _conv_gn(cfg.n_mels if i == 0 else c, c, g) for i in range(3)
        )
        self.content_lstm = _lstm(c, cfg.content_neck, 2)
        if self.use_pitch:
            self.pitch_convs = nn.ModuleList(
                _conv_gn(cfg.pitch_bins if i == 0 else p, p, g) for i in range(3)
            )
            self.pitch_lstm = _lstm(p, cfg.pitch_neck, 1)
        self.rhythm_conv = _conv_gn(cfg.n_mels, cfg.rhythm_channels, g)
        self.rhythm_lstm = _lstm(cfg.rhythm_channels, cfg.rhythm_neck, 1)
        self.resample = InterpResample(cfg)
        self.timbre = TimbreLSTM(cfg)
        width = 2 * (cfg.content_neck + cfg.rhythm_neck) + cfg.embedding_dim
        width += 2 * cfg.pitch_neck if self.use_pitch else 0
        self.decoder_lstm = _lstm(width, cfg.decoder_hidden, cfg.decoder_layers)
        self.decoder_proj = nn.Linear(2 * cfg.decoder_hidden, cfg.n_mels)

    def _content_and_pitch(self, mel: torch.Tensor) -> list[torch.Tensor]:
        """Content (and pitch) codes ``(B, T, 2 neck)``; both streams share each resampling."""
        x = mel
        f = (
            energy_contour(mel, self.cfg.pitch_bins, self.cfg.silence_fraction)
            if self.use_pitch
            else None
        )
        for i, conv in enumerate(self.content_convs):
            x = F.relu(conv(x))
            if f is None:
                x = self.resample(x)
                continue
            f = F.relu(self.pitch_convs[i](f))
            both = self.resample(torch.cat([x, f], dim=1))
            x, f = both[:, : x.shape[1]], both[:, x.shape[1] :]
        freq = self.cfg.freq
        codes = [
            downsample_codes(self.content_lstm(x.transpose(1, 2))[0], self.cfg.content_neck, freq)
        ]
        if f is not None:
            codes.append(
                downsample_codes(self.pitch_lstm(f.transpose(1, 2))[0], self.cfg.pitch_neck, freq)
            )
        return codes

    def convert(self, source: torch.Tensor, ref_mel: torch.Tensor) -> torch.Tensor:
        for name, x in (("source", source), ("ref_mel", ref_mel)):
            if x.dim() != 3 or x.shape[1] != self.n_mels or x.shape[-1] < 1:
                raise ValueError(
                    f"converter: {name} must be (B, {self.n_mels}, T>=1), got {tuple(x.shape)}"
                )
        t = source.shape[-1]
        pad = (-t) % self.cfg.freq
        src = F.pad(source, (0, pad), mode="replicate") if pad else source
        codes = self._content_and_pitch(src)
        rhythm, _ = self.rhythm_lstm(F.relu(self.rhythm_conv(src)).transpose(1, 2))
        codes.append(downsample_codes(rhythm, self.cfg.rhythm_neck, self.cfg.freq))
        emb = self.timbre(ref_mel)
        codes.append(repeat(emb, "b c -> b t c", t=src.shape[-1]))
        h, _ = self.decoder_lstm(torch.cat([c.to(src.dtype) for c in codes], dim=-1))
        return self.decoder_proj(h).transpose(1, 2)[..., :t]

    def forward(
        self,
        video: torch.Tensor | None,
        ref_mel: torch.Tensor,
        bg_mel: torch.Tensor | None = None,
        *,
        source: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if source is None:
            raise ValueError("converter: needs a source mel (source=...); it does not read video")
        return self.convert(source, ref_mel)

    @torch.no_grad()
    def generate(self, video: torch.Tensor, ref_mel: torch.Tensor) -> torch.Tensor:
        raise ValueError(
            "speechsplit_converter converts a mel, it cannot generate from video alone; use it "
            "inside the 'cascade' generator"
        )
