"""The dump directory's feature tables: where each stream lives and how its shapes are written.

``dump/<set>/<stream>/`` (docs/CONTRACTS.md) holds ``feats.scp`` (``<utt> <path.npy>``) and
``feats_shape`` (``<utt> <frames>,<dims>``) for the streams ``mel`` and ``video``. Stage 1
writes them (:mod:`vs_plugin.features.extract`); the datasets and the trainer read them.
This module is the one reader and writer of ``feats_shape`` and names every ``feats.scp``
and inference folder's ``mel.scp`` (:func:`feats_scp`, :func:`mel_scp`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from vs_plugin.errors import InputError
from vs_plugin.utils.files import read_scp, write_scp

STREAMS = ("mel", "video")
#: ``feature_dims`` keys per stream: the width of each stream's frames.
DIM_NAMES = {"mel": "n_mels", "video": "video_dim"}
MISSING = "missing (run stage 1, feature extraction, first)"


def stream_dir(dump_set: str | Path, stream: str) -> Path:
    """``dump/<set>/<stream>``: a stream's folder inside one dump set."""
    return Path(dump_set) / stream


def feats_scp(dump_set: str | Path, stream: str) -> Path:
    """The ``feats.scp`` table (``<utt> <path.npy>``) of one stream of a dump set."""
    return stream_dir(dump_set, stream) / "feats.scp"


def mel_scp(infer_dir: str | Path) -> Path:
    """An inference folder's ``mel.scp`` (``<utt> <path.npy>``, generated or copied mels)."""
    return Path(infer_dir) / "mel.scp"


def shape_file(dump_set: str | Path, stream: str) -> Path:
    """The ``feats_shape`` table of one stream of a dump set."""
    return stream_dir(dump_set, stream) / "feats_shape"


def read_feats_shape(path: str | Path) -> dict[str, tuple[int, int]]:
    """``feats_shape`` -> ``{utt: (frames, dims)}``.

    Raises InputError naming the file when it is missing or a line is not
    ``<utt> <frames>,<dims>`` with two non-negative integers.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, MISSING)
    try:
        table = read_scp(path)
    except ValueError as exc:
        raise InputError(path, str(exc).split(": ", 1)[-1]) from None
    out: dict[str, tuple[int, int]] = {}
    for utt, value in table.items():
        parts = value.split(",")
        try:
            frames, dims = (int(p) for p in parts)
        except ValueError:
            raise InputError(path, f"bad shape {value!r} for {utt} (want T,D)") from None
        if frames < 0 or dims < 0:
            raise InputError(path, f"bad shape {value!r} for {utt} (want T,D)")
        out[utt] = (frames, dims)
    return out


def write_feats_shape(path: str | Path, shapes: Mapping[str, tuple[int, int]]) -> None:
    """Write ``{utt: (frames, dims)}`` as ``feats_shape`` (atomically, keys in C order)."""
    write_scp(Path(path), {u: f"{t},{d}" for u, (t, d) in shapes.items()})


def feature_dims(dump_set: str | Path) -> dict[str, int]:
    """``{"n_mels": ..., "video_dim": ...}``: the frame widths recorded in a dump set.

    Raises InputError when a stream's ``feats_shape`` is missing, empty, malformed or lists
    utterances of different widths.
    """
    dims: dict[str, int] = {}
    for stream, key in DIM_NAMES.items():
        path = shape_file(dump_set, stream)
        widths = {d for _, d in read_feats_shape(path).values()}
        if not widths:
            raise InputError(path, "no utterances listed")
        if len(widths) > 1:
            raise InputError(path, f"utterances of different widths: {sorted(widths)}")
        dims[key] = widths.pop()
    return dims
