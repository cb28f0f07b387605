# The demo that `./run.sh --stage 0 --stop-stage 5` runs on a 2-core CPU in under 20 minutes:
# the tiny preset on the built-in synthetic corpus (or VAS if $VAS is set) with 4 s clips,
# 4 categories x (16 train + 2 valid + 4 test) clips, 120 epochs of 8 iterations (batch 8).
# Later command-line options override these.
# shellcheck disable=SC2034
recipe_opts=(
  --preset tiny
  --duration 4
  --nj 2
  --local-data-opts "--synth-train 16 --synth-valid 2 --synth-test 4"
  --video-feature-opts "image_size=112"
  --train-overrides "train.epochs=120 train.hold_epochs=60 train.batch_size=8"
  --infer-policies "same shuffled"
)
