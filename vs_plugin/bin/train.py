"""``vs-train``: stage 2, train the generator against its discriminators (Hydra CLI).

    vs-train preset=paper dump_dir=dump exp_dir=exp/vas_paper
    vs-train preset=tiny ablation=no_mel_disc train.batch_size=16 train.categories=[dog]
    vs-train model.generator.temporal_encoder.name=my_encoder model.generator.decoder.n_blocks=6
    torchrun --nproc_per_node=4 -m vs_plugin.bin.train ...   (or dist.nproc_per_node=4)

Resumes from the newest valid checkpoint in ``<exp_dir>/checkpoints`` (``resume_from=auto``).
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from vs_plugin.bin.cli import exit_on_user_errors
from vs_plugin.train import config as _config  # noqa: F401  (stores the schema in Hydra)
from vs_plugin.train.engine import NonFiniteLossError, train

PROG = "vs-train"


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> None:
    """Train; a bad input or config is one line and exit 2, a diverged run one line and 1."""
    with exit_on_user_errors(PROG):
        try:
            train(cfg)
        except NonFiniteLossError as exc:  # the run diverged: not a bug, not the user's input
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
