# The paper's experiment: VAS, 10 s clips, the paper preset (batch 48, 500 epochs, learning
# rate 2e-4 held for 100 epochs then decayed to 0), one GPU. Needs VAS=/path/to/VAS.
# shellcheck disable=SC2034
recipe_opts=(
  --preset paper
  --duration 10
  --nj 16
  --ngpu 1
  --device cuda
)
