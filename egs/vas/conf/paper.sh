# The paper's experiment: VAS, 10 s clips, the paper preset (batch 48, 500 epochs, learning
# rate 2e-4 held for 100 epochs then decayed to 0), one model per category as the paper
# trains them, one GPU. Needs VAS=/path/to/VAS. No switch that departs from the paper is on
# (docs/QUALITY.md lists them; add them with --train-overrides).
# shellcheck disable=SC2034
recipe_opts=(
  --preset paper
  --duration 10
  --nj 16
  --ngpu 1
  --device cuda
  --per-category true
)
