"""The paper's cascade baseline (Appendix C): REGNET makes a mel from the video, then a
SpeechSplit-style converter gives it the reference's timbre.

Both halves are trained separately (two runs of the trainer, the ``regnet`` and
``converter`` systems); :func:`export_cascade` joins the two exported models into one
``model/`` directory whose generator stage 3 and ``vs-generate`` use like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from vs_plugin.errors import InputError
from vs_plugin.interfaces import Generator
from vs_plugin.models import converter as _converter  # noqa: F401  (registers the converter)
from vs_plugin.models import regnet as _regnet  # noqa: F401  (registers REGNET)
from vs_plugin.registry import GENERATORS

if TYPE_CHECKING:
    from vs_plugin.models.varietysound import VarietySoundModel


@dataclass
class CascadeConfig:
    video_to_sound: dict[str, Any] = field(default_factory=lambda: {"name": "regnet"})
    converter: dict[str, Any] = field(default_factory=lambda: {"name": "speechsplit_converter"})


@GENERATORS.register("cascade", config=CascadeConfig)
class CascadeGenerator(Generator):
    """``generate(video (B, video_dim, T), ref_mel (B, n_mels, T_ref))`` -> ``(B, n_mels, 4 T)``.

    ``video_to_sound(video)`` with its training-only inputs off, then
    ``converter.convert(that mel, ref_mel)``. ``forward`` is the same (inference only: the
    halves are trained on their own).
    """

    def __init__(self, cfg: CascadeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.video_to_sound = GENERATORS.build(cfg.video_to_sound)
        self.converter = GENERATORS.build(cfg.converter)
        if self.converter.n_mels != self.video_to_sound.n_mels:
            raise ValueError("cascade: the two halves have different n_mels")
        self.n_mels = self.video_to_sound.n_mels
        self.video_dim = self.video_to_sound.video_dim
        self.upsample = self.video_to_sound.upsample

    def forward(
        self, video: torch.Tensor, ref_mel: torch.Tensor, bg_mel: torch.Tensor | None = None
    ) -> torch.Tensor:
        mel = self.video_to_sound.generate(video, ref_mel)
        return self.converter.convert(mel, ref_mel)

    @torch.no_grad()
    def generate(self, video: torch.Tensor, ref_mel: torch.Tensor, **_: Any) -> torch.Tensor:
        return self(video, ref_mel)


def export_cascade(
    video_to_sound: str | Path | VarietySoundModel,
    converter: str | Path | VarietySoundModel,
    out_dir: str | Path,
) -> Path:
    """Join two exported models into ``out_dir`` (a cascade export); returns its card path.

    Each half is an exported model, or where to load one from (``load_exported``). Both must
    come from the same training dump (same statistics and features): the video half's
    normalisation and feature specs are kept. Raises InputError, naming the converter's
    folder, when the two mel statistics differ.
    """
    import numpy as np

    from vs_plugin.models.export import export_generator, load_exported
    from vs_plugin.models.varietysound import VarietySoundModel

    def loaded(half: str | Path | VarietySoundModel) -> VarietySoundModel:
        return half if isinstance(half, VarietySoundModel) else load_exported(half, device="cpu")

    v2s, conv = loaded(video_to_sound), loaded(converter)
    v2s_stats, conv_stats = v2s.mel_stats, conv.mel_stats
    if not (
        np.allclose(v2s_stats.mean, conv_stats.mean)
        and np.allclose(v2s_stats.scale, conv_stats.scale)
    ):
        raise InputError(
            conv.directory, f"trained with other mel statistics than {v2s.directory}"
        )
    spec = {"name": "cascade", "video_to_sound": v2s.spec, "converter": conv.spec}
    cascade = CascadeGenerator(CascadeConfig(video_to_sound=v2s.spec, converter=conv.spec))
    cascade.video_to_sound.load_state_dict(v2s.generator.state_dict())
    cascade.converter.load_state_dict(conv.generator.state_dict())
    return export_generator(
        cascade, spec, out_dir, v2s_stats, v2s.video_stats, v2s.video_feature, mel=v2s.mel
    )
