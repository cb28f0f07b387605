# The paper's comparison on the built-in corpus: VarietySound against the cascade baseline
# (REGNET -> SpeechSplit-style converter, paper Appendix C) on the same test pairs, beside the
# vocoded ground truth, and the MCD ablation table (Tables 7-8). Usage:
#   ./run.sh --conf conf/compare.sh            # writes exp/vas_compare/RESULTS.md and
#                                              # RESULTS_compare.md here; listening kits with
#                                              # VarietySound, the baseline and ground truth
# It is the demo (conf/demo.sh: corpus, features, model, switches) sized so that six training
# runs and ~340 vocoded clips take about 21 min of an idle 2-core CPU: every system and
# ablation variant alike trains 10 epochs (the demo trains 90), the Griffin-Lim vocoder
# replaces HiFi-GAN (6 s per clip on that CPU) for every system and the ground truth alike;
# 5 test clips per category (the 5 x 3 timbre design needs 5 references); policies shuffled
# (the paper's evaluation) and timbre_5x3 (the listening kit's timbre test). For the demo's
# training budget and vocoder add: --train-overrides "train.epochs=90 train.hold_epochs=45
# ..." --vocoder hifigan. Time of this configuration: BENCHMARKS.md.
# shellcheck disable=SC1091
. conf/demo.sh
# shellcheck disable=SC2034,SC2154
recipe_opts+=(
  --tag vas_compare
  --local-data-opts "--synth-train 32 --synth-valid 2 --synth-test 5"
  --train-overrides "train.epochs=10 train.hold_epochs=5 train.batch_size=8 ${width//$'\n'/} ${transfer//$'\n'/}"
  --baseline-overrides "train.epochs=10 train.hold_epochs=5 data.reference_frames=172"
  --vocoder griffin_lim
  --infer-policies "shuffled timbre_5x3"
  --eval-policies "shuffled"
  --systems "varietysound baseline"
  --ablations true
  --results-name RESULTS_compare.md
)
