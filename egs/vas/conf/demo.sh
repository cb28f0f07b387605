# The demo that `./run.sh --stage 0 --stop-stage 5` runs on a 2-core CPU in about 12 to 14 minutes:
# the built-in synthetic corpus (or VAS if $VAS is set), 4 s clips, 4 categories x (32 train +
# 2 valid + 4 test) clips, a CPU-sized model (the tiny preset with a wider decoder and
# acoustic encoder), 1440 iterations of batch 8, generation and scoring of same-category
# (shuffled) and cross-category pairs. Later command-line options override these.
#
# The video features run in bfloat16 (recorded in the feature spec; fp32 on a CPU without
# bfloat16 units, which changes no score of the demo: docs/QUALITY.md, run H).
#
# Switches that depart from the paper, each measured in docs/QUALITY.md (paper: all off):
#   decoder.film                     the time-invariant codes scale and shift every decoder block
#   data.reference_frames            the training reference is a random 2 s crop of the clip
#   background_encoder.quantile/tail_frames   stricter energy masking of the background input
#   acoustic_encoder.event_quantile  the timbre encoder hears the reference's louder frames only
#   acoustic_encoder.eval_draws      at inference, the timbre vector is the mean over 8 draws of R
#   acoustic_encoder.pooling         the timbre vector is the final LSTM state and the mean of its frames
# shellcheck disable=SC2034
transfer="model.generator.decoder.film=true data.reference_frames=172
 model.generator.background_encoder.quantile=0.3 model.generator.background_encoder.tail_frames=24
 model.generator.acoustic_encoder.event_quantile=0.5 model.generator.acoustic_encoder.eval_draws=8
 model.generator.acoustic_encoder.pooling=last+mean"
# shellcheck disable=SC2034
width="model.generator.decoder.n_blocks=2 model.generator.decoder.hidden=128
 model.generator.decoder.conv_filter=128 model.generator.decoder.upsample_channels=128
 model.generator.acoustic_encoder.channels=128 model.generator.acoustic_encoder.lstm_hidden=64"
# shellcheck disable=SC2034
recipe_opts=(
  --preset tiny
  --duration 4
  --nj 2
  --local-data-opts "--synth-train 32 --synth-valid 2 --synth-test 4"
  --video-feature-opts "image_size=112 precision=bf16"
  --train-overrides "train.epochs=90 train.hold_epochs=45 train.batch_size=8 train.image_every=30 ${width//$'\n'/} ${transfer//$'\n'/}"
  --infer-policies "shuffled cross"
  --eval-policies "shuffled cross"
)
