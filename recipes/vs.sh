#!/usr/bin/env bash
# The dataset-independent VarietySound recipe. A corpus recipe (egs/<corpus>/run.sh) sets its
# defaults and calls this script with "$@"; it runs from the corpus recipe's directory.
#
#   stage 0  data preparation        local/data.sh -> data/{train,valid,test}
#   stage 1  feature extraction      data/ -> dump/<set>/{mel,video}, normalisation stats
#   stage 2  training                dump/ -> exp/<tag>/ (checkpoints, model/, TensorBoard)
#   stage 3  generation              exp/<tag>/infer_<set>_<policy>/mel
#   stage 4  vocoding and muxing     .../wav, .../mp4 (+ infer_<set>_gt, vocoded ground truth)
#   stage 5  scoring + listening kit exp/<tag>/scores, RESULTS.md, figures/, listening_test/
set -euo pipefail

# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/utils/log.sh"
SECONDS=0
cmdline="$(printf '%q ' "$0" "$@")"  # quoted, for exp/<tag>/run.sh

# -- options (each is also --flag-name on the command line) ---------------------------------
stage=0                 # first stage to run
stop_stage=5            # last stage to run
skip_data_prep=false    # skip stages 0-1
skip_train=false        # skip stage 2
skip_eval=false         # skip stages 3-5
overwrite=false         # redo stages whose outputs are already complete
strict=false            # stop at the first bad input file (default: list it and go on)
nj=2                    # parallel jobs for stages 0, 1 and 5 (policies scored side by side)
ngpu=0                  # GPUs for training (0: CPU; >1: ignite.distributed, one process each)
device=auto             # device for extraction/generation/vocoding: auto, cpu, cuda
tag=""                  # experiment name (default: <recipe folder>_<preset>)
seed=1                  # random seed of every stage (data split, training, pairing)
train_seed=""           # seed of training alone ("" = --seed): seeds of one model on the same pairs
data_dir=data           # Kaldi-style data dirs
dump_dir=dump           # features
exp_root=exp            # experiments: exp_root/<tag>/
# data
corpus=""               # corpus registry name; "" lets local/data.sh decide
local_data_opts=""      # extra options passed to local/data.sh
duration=10             # seconds per conformed clip
fps=21.5                # video frame rate of the conformed clips (and of the video features)
height=256              # conformed frame height (px)
width=340               # conformed frame width (px)
sample_rate=22050       # conformed audio rate (Hz)
pad=loop                # padding of short clips: loop, silence
# model / training
preset=tiny             # model preset, one of: vs-list --presets --system varietysound
temporal_encoder=""     # component names ("" = the preset's)
acoustic_encoder=""     # acoustic (timbre) encoder name ("" = the preset's)
background_encoder=""   # background encoder name ("" = the preset's)
decoder=""              # mel decoder name ("" = the preset's)
discriminators=""       # e.g. "time_alignment multi_window_mel"
video_feature=effnet_rgb_flow # video feature extractor name (vs-list video_feature)
video_feature_opts=""   # k=v ... for the video feature extractor
train_overrides=""      # extra Hydra overrides, e.g. "train.epochs=10 train.batch_size=8"
per_category=false      # true: one model per category (the paper's protocol), exp/<tag>/cat_<c>/
# evaluation
test_set=test           # the set generated and scored in stages 3-5
infer_policies="same shuffled cross"  # reference policies for stage 3
eval_policies="shuffled cross"  # policies scored in RESULTS.md (shuffled: the paper's evaluation)
vocoder=hifigan         # hifigan (pretrained, universal) or griffin_lim (fast, lower quality)
vocoder_opts=""         # k=v ... for the vocoder, e.g. "backend=torch precision=fp32"
scorers="mcd timbre_similarity mfcc_similarity sfx_similarity reference_match onset disentanglement"
listening_kit=true      # write the listening-test kits in stage 5
compare=""              # other systems to score: "name=dir name2=dir2"
# comparison (paper Sec. "Baseline Model", Appendix C, Tables 1-8)
systems="varietysound"  # systems on the same test pairs: varietysound (always), baseline
                        # (baseline: the cascade REGNET -> SpeechSplit-style converter)
baseline_overrides=""   # extra Hydra overrides for the baseline's two training runs
ablations=false         # true: train/generate the paper's ablation variants, MCD table in RESULTS.md
ablation_variants="proposed with_background no_temporal no_timbre no_temporal_timbre no_background_encoder no_mel_disc no_align_disc"  # rows of the table (default: all)
corpus_note=""          # a line placed at the top of RESULTS.md
results_name=RESULTS.md # the copy of exp/<tag>/RESULTS.md kept in the recipe folder ("": none)

help_message="Usage: $0 [options]
  Runs stages --stage..--stop-stage of the VarietySound recipe (0 data, 1 features, 2 train,
  3 generate, 4 vocode+mux, 5 score+listening kit). Options are --name value.
  --config FILE   read options from a shell file first (lines name=value); the command line wins
  (egs/<corpus>/run.sh also takes --conf FILE: a preset such as conf/paper.sh or conf/compare.sh)"

# every variable of the options block above is an option; --help lists them with their comments
_vs_opt_source="${BASH_SOURCE[0]}"
_vs_opt_names="$(sed -n '/^# -- options/,/^help_message=/s/^\([a-z][a-z0-9_]*\)=.*/\1/p' \
  "${_vs_opt_source}" | grep -v '^help_message$' | tr '\n' ' ')"
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/utils/parse_options.sh"
if [[ $# -ne 0 ]]; then
  log "unexpected argument(s): $*  (see --help)"
  exit 1
fi
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/path.sh"
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/cmd.sh"

for flag in skip_data_prep skip_train skip_eval overwrite strict listening_kit per_category ablations; do
  [[ "${!flag}" == true || "${!flag}" == false ]] || { log "--${flag//_/-} must be true or false"; exit 1; }
done
# the presets come from the package's table (vs_plugin/models/presets.py), not from here
known_presets="$(vs-list --presets --system varietysound --names | tr '\n' ' ')" \
  || { log "vs-list --presets failed: is the environment (${VS_VENV}) complete?"; exit 1; }
[[ " ${known_presets}" == *" ${preset} "* ]] || { log "--preset: unknown preset '${preset}' (known: ${known_presets% })"; exit 1; }

[[ -z "${tag}" ]] && tag="$(basename "$(pwd)")_${preset}"  # e.g. vas_tiny
exp_dir="${exp_root}/${tag}"
mkdir -p "${exp_dir}"
run_stage() { [[ ${stage} -le $1 && ${stop_stage} -ge $1 ]]; }
# -- comparison systems and ablations: where each lives, how each is generated ----------------
baseline=false
for sys_name in ${systems}; do
  case "${sys_name}" in
    varietysound) ;;
    baseline) baseline=true ;;
    *) log "--systems: unknown system '${sys_name}' (known: varietysound baseline)"; exit 1 ;;
  esac
done
baseline_dir="${exp_root}/${tag}_baseline"  # regnet/, converter/, model/ (the joined cascade)
baseline_suffix=""; [[ "${preset}" == tiny ]] && baseline_suffix=_tiny  # REGNET/converter sizes
ablation_dir="${exp_dir}/ablation"          # <variant>/ generations of the original pairs
# retrained ablation variants: name -> Hydra overrides (vs_plugin/scoring/ablation.py)
declare -A ablation_retrain=(
  [no_mel_disc]="ablation=no_mel_disc"
  [no_align_disc]="ablation=no_align_disc"
  [no_background_encoder]="+model.generator.use_background=false"
)
# inference-time variants of the full model: name -> vs-infer flags
declare -A ablation_infer=(
  [proposed]=""
  [with_background]="--with-background true"
  [no_temporal]="--drop-temporal zeros"
  [no_timbre]="--drop-timbre zeros"
  [no_temporal_timbre]="--drop-temporal zeros --drop-timbre zeros"
)
for v in ${ablation_variants}; do
  [[ -v "ablation_infer[${v}]" || -v "ablation_retrain[${v}]" ]] || { log "--ablation-variants: unknown variant '${v}'"; exit 1; }
done
# model_of DIR -> the model argument of vs-infer for the experiment in DIR
model_of() { if [[ "${per_category}" == true ]]; then echo "$1/cat_{category}/model"; else echo "$1/model"; fi; }
# extra_generations -> "OUT_DIR<TAB>MODEL<TAB>POLICY<TAB>FLAGS" for every generation beyond ours
extra_generations() {
  local policy v
  if [[ "${baseline}" == true ]]; then
    for policy in ${infer_policies}; do
      printf '%s\t%s\t%s\t\n' "${baseline_dir}/infer_${test_set}_${policy}" "$(model_of "${baseline_dir}")" "${policy}"
    done
  fi
  if [[ "${ablations}" == true ]]; then
    for v in ${ablation_variants}; do
      if [[ -v "ablation_infer[${v}]" ]]; then
        printf '%s\t%s\tsame\t%s\n' "${ablation_dir}/${v}" "$(model_of "${exp_dir}")" "${ablation_infer[${v}]}"
      else
        printf '%s\t%s\tsame\t\n' "${ablation_dir}/${v}" "$(model_of "${exp_root}/${tag}_abl_${v}")"
      fi
    done
  fi
}
is_done() { [[ "${overwrite}" == false && -f "$1" ]]; }

if [[ "${skip_data_prep}" == true ]]; then
  run_stage 0 && log "stage 0: skipped (--skip-data-prep true)"
  run_stage 1 && log "stage 1: skipped (--skip-data-prep true)"
  [[ ${stage} -lt 2 ]] && stage=2
fi
if [[ "${skip_train}" == true ]] && run_stage 2; then
  log "stage 2: skipped (--skip-train true)"
  [[ ${stop_stage} -ge 3 ]] && stage=3
fi
if [[ "${skip_eval}" == true ]]; then
  [[ ${stop_stage} -gt 2 ]] && log "stages 3-5: skipped (--skip-eval true)" && stop_stage=2
fi

# -- stage 0: data preparation --------------------------------------------------------------
if run_stage 0; then
  marker="${data_dir}/.stage0.done"
  # what stage 0 was asked for: data prepared for another corpus or other options is not reused
  data_spec="corpus=${corpus:-default} duration=${duration} fps=${fps} size=${height}x${width} sample_rate=${sample_rate} pad=${pad} seed=${seed} opts=${local_data_opts}"
  if is_done "${marker}"; then
    if [[ -s "${marker}" && "$(cat "${marker}")" != "${data_spec}" ]]; then
      log "stage 0: ${data_dir} was prepared with other options ($(cat "${marker}")); use another --data-dir and --dump-dir, or --overwrite true"
      exit 1
    fi
    log "stage 0: data preparation already done (${marker}); --overwrite true to redo"
  else
    log "stage 0: data preparation -> ${data_dir}/{train,valid,test} (conformed media in ${dump_dir}/media)"
    # the options string may quote values with spaces: --local-data-opts "--categories 'a b'"
    eval "data_opts=(${local_data_opts})"
    local/data.sh --data-dir "${data_dir}" --media-dir "${dump_dir}/media" --nj "${nj}" \
      --strict "${strict}" --duration "${duration}" --fps "${fps}" --height "${height}" \
      --width "${width}" --sample-rate "${sample_rate}" --pad "${pad}" --seed "${seed}" \
      ${corpus:+--corpus "${corpus}"} "${data_opts[@]}"
    for set in train valid test; do
      validate_data_dir.sh "${data_dir}/${set}"
    done
    echo "${data_spec}" > "${marker}"
  fi
fi

# -- stage 1: features ----------------------------------------------------------------------
if run_stage 1; then
  marker="${dump_dir}/.stage1.done"
  if is_done "${marker}"; then
    log "stage 1: features already extracted (${marker})"
  else
    log "stage 1: features ${data_dir}/<set> -> ${dump_dir}/<set>/{mel,video} (${video_feature}, nj=${nj})"
    vf_opts=()
    # shellcheck disable=SC2206
    [[ -n "${video_feature_opts}" ]] && vf_opts=(--feature-config ${video_feature_opts})
    for set in train valid test; do
      for stream in mel video; do
        feat=mel
        [[ ${stream} == video ]] && feat=${video_feature}
        logdir="${dump_dir}/${set}/${stream}/log"
        mkdir -p "${logdir}"
        log "stage 1: ${set}/${stream} (${feat}); logs in ${logdir}"
        # jobs and merge get the same options: each checks them against the stream's
        # feature_spec.yaml. --fps is stage 0's (mel crop, video feature's fps); the mel
        # feature resamples to its own rate, so --sample-rate need not be passed.
        extra=(--fps "${fps}")
        [[ ${stream} == video ]] && extra+=("${vf_opts[@]}")
        # shellcheck disable=SC2154
        ${decode_cmd} JOB=0:"$((nj - 1))" "${logdir}/extract.JOB.log" \
          vs-extract-features --data "${data_dir}/${set}" --out "${dump_dir}/${set}" \
          --stream "${stream}" --feature "${feat}" --nj "${nj}" --job JOB --device "${device}" \
          "${extra[@]}"
        vs-extract-features --data "${data_dir}/${set}" --out "${dump_dir}/${set}" \
          --stream "${stream}" --feature "${feat}" --nj "${nj}" --merge "${extra[@]}" \
          $([[ ${set} == train ]] && echo --fit-stats)
      done
    done
    touch "${marker}"
  fi
fi

# -- stage 2: training ----------------------------------------------------------------------
if run_stage 2; then
  overrides=("preset=${preset}" "tag=${tag}" "dump_dir=${dump_dir}" "seed=${train_seed:-${seed}}")  # the video feature's spec comes from ${dump_dir}/<train set>
  [[ -n "${temporal_encoder}" ]] && overrides+=("model.generator.temporal_encoder.name=${temporal_encoder}")
  [[ -n "${acoustic_encoder}" ]] && overrides+=("model.generator.acoustic_encoder.name=${acoustic_encoder}")
  [[ -n "${background_encoder}" ]] && overrides+=("model.generator.background_encoder.name=${background_encoder}")
  [[ -n "${decoder}" ]] && overrides+=("model.generator.decoder.name=${decoder}")
  if [[ -n "${discriminators}" ]]; then
    list=""
    for d in ${discriminators}; do list+="${list:+,}{name:${d}}"; done
    overrides+=("model.discriminators=[${list}]")
  fi
  device_overrides=("device=cpu")
  if [[ ${ngpu} -gt 0 ]]; then
    device_overrides=("device=cuda")
    [[ ${ngpu} -gt 1 ]] && device_overrides+=("dist.nproc_per_node=${ngpu}")
  fi
  overrides+=("${device_overrides[@]}")
  # shellcheck disable=SC2206
  overrides+=(${train_overrides})
  # exp/<tag>/run.sh: resume this experiment from stage 2 with the arguments it started with
  if [[ ! -f "${exp_dir}/run.sh" || "${overwrite}" == true ]]; then
    {
      echo "#!/usr/bin/env bash"
      echo "# Resume ${tag} from stage 2 with the arguments it was started with;"
      echo "# later options (e.g. --stop-stage 5) are added after them."
      echo "cd $(printf '%q' "$(pwd)") && ${cmdline}--stage 2 \"\$@\""
    } >"${exp_dir}/run.sh"
    chmod +x "${exp_dir}/run.sh"
  fi
  # train_one EXP_DIR [OVERRIDE...]: train and export one model into EXP_DIR/model
  train_one() {
    local dir=$1; shift
    local marker="${dir}/model/.done"
    if is_done "${marker}"; then
      log "stage 2: already trained (${marker}); --overwrite true to retrain"
      return
    fi
    mkdir -p "${dir}/model"
    log "stage 2: training ${preset} -> ${dir} (log: ${dir}/train.log, resume: ${exp_dir}/run.sh)"
    log "stage 2: overrides: ${overrides[*]} $*"
    vs-train "${overrides[@]}" "$@" resume_from=auto
    [[ -f "${dir}/model/model.pt" ]] || { log "stage 2: no exported model in ${dir}/model"; exit 1; }
    touch "${marker}"
  }
  if [[ "${per_category}" == true ]]; then
    for cat in $(cut -d' ' -f1 "${data_dir}/train/category2utt"); do
      train_one "${exp_dir}/cat_${cat}" "exp_dir=${exp_dir}/cat_${cat}" "train.categories=[${cat}]"
    done
  else
    train_one "${exp_dir}" "exp_dir=${exp_dir}"
  fi
  # for_each_model DIR FUNCTION [ARG...]: FUNCTION MODEL_DIR [ARG...] once per model of DIR
  for_each_model() {
    local dir=$1 fn=$2 cat; shift 2
    if [[ "${per_category}" == true ]]; then
      for cat in $(cut -d' ' -f1 "${data_dir}/train/category2utt"); do
        "${fn}" "${dir}/cat_${cat}" "$@" "train.categories=[${cat}]"
      done
    else
      "${fn}" "${dir}" "$@"
    fi
  }
  # train_system DIR PRESET [OVERRIDE...]: one run of the same trainer for another system
  train_system() {
    local dir=$1 name=$2; shift 2
    if is_done "${dir}/model/.done"; then log "stage 2: ${dir} already trained"; return; fi
    mkdir -p "${dir}/model"
    local args=("preset=${name}" "tag=${tag}" "dump_dir=${dump_dir}" "seed=${seed}"
      "exp_dir=${dir}" "${device_overrides[@]}")
    log "stage 2: training ${name} -> ${dir} (log: ${dir}/train.log)"
    # shellcheck disable=SC2086
    vs-train "${args[@]}" ${baseline_overrides} "$@" resume_from=auto
    [[ -f "${dir}/model/model.pt" ]] || { log "stage 2: no exported model in ${dir}/model"; exit 1; }
    touch "${dir}/model/.done"
  }
  # train_baseline DIR [OVERRIDE...]: REGNET and the converter, joined into DIR/model
  train_baseline() {
    local dir=$1; shift
    train_system "${dir}/regnet" "regnet${baseline_suffix}" "$@"
    train_system "${dir}/converter" "converter${baseline_suffix}" "$@"
    if ! is_done "${dir}/model/.done"; then
      vs-join-cascade --video-to-sound "${dir}/regnet/model" --converter "${dir}/converter/model" \
        --out "${dir}/model"
      touch "${dir}/model/.done"
    fi
  }
  train_variant() { local dir=$1; shift; train_one "${dir}" "exp_dir=${dir}" "$@"; }
  [[ "${baseline}" == true ]] && for_each_model "${baseline_dir}" train_baseline
  if [[ "${ablations}" == true ]]; then
    for v in ${ablation_variants}; do
      # shellcheck disable=SC2086
      [[ -v "ablation_retrain[${v}]" ]] && for_each_model "${exp_root}/${tag}_abl_${v}" train_variant ${ablation_retrain[${v}]}
    done
  fi
fi

# -- stage 3: generation --------------------------------------------------------------------
if run_stage 3; then
  for policy in ${infer_policies}; do
    out="${exp_dir}/infer_${test_set}_${policy}"
    if is_done "${out}/.mel.done"; then
      log "stage 3: ${out} already generated"
      continue
    fi
    log "stage 3: generating ${test_set} with reference policy '${policy}' -> ${out}"
    mkdir -p "${out}"
    model="${exp_dir}/model"
    [[ "${per_category}" == true ]] && model="${exp_dir}/cat_{category}/model"  # one per category
    vs-infer --model "${model}" --data "${data_dir}/${test_set}" \
      --dump "${dump_dir}/${test_set}" --out "${out}" --policy "${policy}" --seed "${seed}" \
      --device "${device}" $([[ ${overwrite} == true ]] && echo --overwrite) \
      2>&1 | tee "${out}.log"
    touch "${out}/.mel.done"
  done
  # the comparison systems and ablation variants: same seed, so the same pairs as ours
  while IFS=$'\t' read -r -u 3 out model policy flags; do
    if is_done "${out}/.mel.done"; then log "stage 3: ${out} already generated"; continue; fi
    log "stage 3: ${model} (${policy}${flags:+, ${flags}}) -> ${out}"
    mkdir -p "${out}"
    # shellcheck disable=SC2086
    vs-infer --model "${model}" --data "${data_dir}/${test_set}" --dump "${dump_dir}/${test_set}" \
      --out "${out}" --policy "${policy}" --seed "${seed}" --device "${device}" ${flags} \
      $([[ ${overwrite} == true ]] && echo --overwrite) 2>&1 | tee "${out}.log"
    touch "${out}/.mel.done"
  done 3< <(extra_generations)
fi

# -- stage 4: vocoding and muxing -----------------------------------------------------------
if run_stage 4; then
  voc_opts=()
  # shellcheck disable=SC2206  # k=v words, split on purpose
  [[ -n "${vocoder_opts}" ]] && voc_opts=(--vocoder-config ${vocoder_opts})
  gt="${exp_dir}/infer_${test_set}_gt"
  mkdir -p "${gt}"
  if ! is_done "${gt}/.wav.done"; then
    log "stage 4: vocoding ground-truth mels of ${test_set} -> ${gt} (${vocoder})"
    vs-vocode --gt --dump "${dump_dir}/${test_set}" --data "${data_dir}/${test_set}" \
      --in "${gt}" --vocoder "${vocoder}" "${voc_opts[@]}" --device "${device}" --mux true \
      $([[ ${overwrite} == true ]] && echo --overwrite) 2>&1 | tee "${gt}.log"
    touch "${gt}/.wav.done"
  fi
  for policy in ${infer_policies}; do
    dir="${exp_dir}/infer_${test_set}_${policy}"
    if is_done "${dir}/.wav.done"; then
      log "stage 4: ${dir} already vocoded"
      continue
    fi
    log "stage 4: vocoding ${dir}/mel -> wav/, muxing -> mp4/ (${vocoder})"
    mkdir -p "${dir}"
    vs-vocode --in "${dir}" --data "${data_dir}/${test_set}" --vocoder "${vocoder}" "${voc_opts[@]}" \
      --device "${device}" --mux true $([[ ${overwrite} == true ]] && echo --overwrite) \
      2>&1 | tee "${dir}.vocode.log"
    touch "${dir}/.wav.done"
  done
  while IFS=$'\t' read -r -u 3 dir _; do
    if is_done "${dir}/.wav.done"; then log "stage 4: ${dir} already vocoded"; continue; fi
    mux=true; [[ "${dir}" == "${ablation_dir}/"* ]] && mux=false  # MCD needs no video
    log "stage 4: vocoding ${dir}/mel -> wav/ (${vocoder}, mux: ${mux})"
    vs-vocode --in "${dir}" --data "${data_dir}/${test_set}" --vocoder "${vocoder}" "${voc_opts[@]}" \
      --device "${device}" --mux "${mux}" $([[ ${overwrite} == true ]] && echo --overwrite) \
      2>&1 | tee "${dir}.vocode.log"
    touch "${dir}/.wav.done"
  done 3< <(extra_generations)
fi

# -- stage 5: scoring and listening-test kits -----------------------------------------------
if run_stage 5; then
  compare_args=()
  for c in ${compare}; do compare_args+=(--compare "${c}"); done
  kit_args=()
  if [[ "${baseline}" == true ]]; then
    compare_args+=(--compare "Baseline (REGNET + converter)=${baseline_dir}/infer_${test_set}_{policy}")
    kit_args+=(--compare "baseline=${baseline_dir}/infer_${test_set}_${eval_policies%% *}")
  fi
  if [[ " ${infer_policies} " == *" timbre_5x3 "* ]]; then  # the paper's 5 x 3 timbre test
    kit_args+=(--timbre-infer "${exp_dir}/infer_${test_set}_timbre_5x3")
    [[ "${baseline}" == true ]] && kit_args+=(--compare "baseline=${baseline_dir}/infer_${test_set}_timbre_5x3")
  fi
  note="${corpus_note}"
  [[ -f "${data_dir}/CORPUS_NOTE" ]] && note="$(cat "${data_dir}/CORPUS_NOTE") ${note}"
  infer_args=()
  for policy in ${eval_policies}; do infer_args+=(--infer "${exp_dir}/infer_${test_set}_${policy}"); done
  # the listening-test kit needs only stage 4's outputs: it is built in the background, beside
  # the scoring (its ffmpeg muxing and the scorers' networks share the CPU), with its own log
  kit_pid=""
  if [[ "${listening_kit}" == true ]]; then
    first_policy="${eval_policies%% *}"
    log "stage 5: listening-test kits (${first_policy} pairs) -> ${exp_dir}/listening_test (in the background)"
    vs-listening-kit build --infer "${exp_dir}/infer_${test_set}_${first_policy}" \
      --gt "${exp_dir}/infer_${test_set}_gt" --jobs 1 \
      --data "${data_dir}/${test_set}" --out "${exp_dir}/listening_test" --seed "${seed}" \
      "${kit_args[@]}" >"${exp_dir}/listening_kit.log" 2>&1 &
    kit_pid=$!
    trap '[[ -n "${kit_pid}" ]] && kill "${kit_pid}" 2>/dev/null' EXIT  # no orphan if scoring fails
  fi
  log "stage 5: scoring policies '${eval_policies}' with: ${scorers} -> ${exp_dir}/scores"
  mkdir -p "${exp_dir}/scores"
  # with --nj > 1, policies are scored side by side in threads of one process (sharing the
  # networks and the embeddings of the references and originals); figures are drawn in a
  # second process meanwhile
  vs-score "${infer_args[@]}" --jobs "${nj}" --gt "${exp_dir}/infer_${test_set}_gt" \
    --data "${data_dir}/${test_set}" --scorers "${scorers}" --out "${exp_dir}/scores" \
    --results "${exp_dir}/RESULTS.md" --title "Results: ${tag}" \
    --corpus-note "${note}" "${compare_args[@]}" 2>&1 | tee "${exp_dir}/scores.log"
  if [[ "${ablations}" == true ]]; then
    variant_args=()
    for v in ${ablation_variants}; do variant_args+=(--variant "${v}=${ablation_dir}/${v}"); done
    mkdir -p "${ablation_dir}"
    log "stage 5: MCD ablation table -> ${ablation_dir}/ABLATION.md (appended to RESULTS.md)"
    vs-ablation-table "${variant_args[@]}" --gt "${exp_dir}/infer_${test_set}_gt" \
      --data "${data_dir}/${test_set}" --out "${ablation_dir}/ABLATION.md" \
      --scores "${ablation_dir}/scores" 2>&1 | tee "${ablation_dir}/scores.log"
    { echo; cat "${ablation_dir}/ABLATION.md"; } >>"${exp_dir}/RESULTS.md"
  fi
  if [[ -n "${kit_pid}" ]]; then
    wait "${kit_pid}" || { log "stage 5: the listening-test kit failed: see ${exp_dir}/listening_kit.log"; cat "${exp_dir}/listening_kit.log"; exit 1; }
    kit_pid=""
    cat "${exp_dir}/listening_kit.log"
  fi
  # the recipe folder's RESULTS.md shows the latest result of an experiment kept beside it
  if [[ "${exp_root}" != /* && -n "${results_name}" ]]; then
    # with the figures it links (vs-score writes them to figures/ beside RESULTS.md); a
    # RESULTS_<name>.md gets figures_<name>/ so that two configurations do not overwrite each other
    figures_name="figures${results_name#RESULTS}"; figures_name="${figures_name%.md}"
    sed "s#](figures/#](${figures_name}/#g" "${exp_dir}/RESULTS.md" > "${results_name}"
    rm -rf "${figures_name}"
    if [[ -d "${exp_dir}/figures" ]]; then cp -r "${exp_dir}/figures" "${figures_name}"; fi
  fi
fi

log "Successfully finished [elapsed=${SECONDS}s]"
