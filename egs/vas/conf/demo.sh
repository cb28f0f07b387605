# The demo that `./run.sh --stage 0 --stop-stage 5` runs on a 2-core CPU in about 20 minutes:
# the tiny preset on the built-in synthetic corpus (or VAS if $VAS is set) with short clips.
# Later command-line options override these.
# shellcheck disable=SC2034
recipe_opts=(
  --preset tiny
  --duration 4
  --nj 2
  --local-data-opts "--synth-train 16 --synth-valid 2 --synth-test 4"
  --video-feature-opts "image_size=112"
  --train-overrides "train.epochs=40 train.batch_size=8"
)
