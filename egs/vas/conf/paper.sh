# The paper's experiment: VAS, 10 s clips, the paper preset (batch 48, 500 epochs, learning
# rate 2e-4 held for 100 epochs then decayed to 0), one model per category as the paper
# trains them, one GPU. Needs VAS=/path/to/VAS. No switch that departs from the paper is on
# (docs/QUALITY.md lists them; add them with --train-overrides). The EfficientNet video features
# are computed in bfloat16 (recorded in their spec): on a CPU, vs-generate then runs a 10 s clip
# in about 4.6 s of work instead of 5.6 s (BENCHMARKS.md); a model given fp32 features instead
# scores the same (docs/QUALITY.md, run H). Another --video-feature needs its own
# --video-feature-opts (this one's precision field is EfficientNet's).
# shellcheck disable=SC2034
recipe_opts=(
  --preset paper
  --duration 10
  --nj 16
  --ngpu 1
  --device cuda
  --per-category true
  --video-feature-opts "precision=bf16"
)
