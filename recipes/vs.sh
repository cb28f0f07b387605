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
nj=2                    # parallel jobs for stages 0, 1
ngpu=0                  # GPUs for training (0: CPU; >1: ignite.distributed, one process each)
device=auto             # device for extraction/generation/vocoding: auto, cpu, cuda
tag=""                  # experiment name (default: <recipe folder>_<preset>)
seed=1
data_dir=data           # Kaldi-style data dirs
dump_dir=dump           # features
exp_root=exp
# data
corpus=""               # corpus registry name; "" lets local/data.sh decide
local_data_opts=""      # extra options passed to local/data.sh
duration=10             # seconds per conformed clip
fps=21.5
height=256
width=340
sample_rate=22050
pad=loop                # padding of short clips: loop, silence
# model / training
preset=tiny             # paper or tiny
temporal_encoder=""     # component names ("" = the preset's)
acoustic_encoder=""
background_encoder=""
decoder=""
discriminators=""       # e.g. "time_alignment multi_window_mel"
video_feature=effnet_rgb_flow
video_feature_opts=""   # k=v ... for the video feature extractor
train_overrides=""      # extra Hydra overrides, e.g. "train.max_epochs=10 train.batch_size=8"
per_category=false      # true: one model per category (the paper's protocol), exp/<tag>/cat_<c>/
# evaluation
test_set=test
infer_policies="same shuffled cross"  # reference policies for stage 3
eval_policies="shuffled cross"  # policies scored in RESULTS.md (shuffled: the paper's evaluation)
vocoder=hifigan
scorers="mcd timbre_similarity mfcc_similarity sfx_similarity reference_match onset disentanglement"
listening_kit=true
compare=""              # other systems to score: "name=dir name2=dir2"
corpus_note=""          # a line placed at the top of RESULTS.md

help_message="Usage: $0 [options]
  Runs stages --stage..--stop-stage of the VarietySound recipe (0 data, 1 features, 2 train,
  3 generate, 4 vocode+mux, 5 score+listening kit). Options are --name value."

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

for flag in skip_data_prep skip_train skip_eval overwrite strict listening_kit per_category; do
  [[ "${!flag}" == true || "${!flag}" == false ]] || { log "--${flag//_/-} must be true or false"; exit 1; }
done
[[ "${preset}" == paper || "${preset}" == tiny ]] || { log "--preset must be paper or tiny"; exit 1; }

[[ -z "${tag}" ]] && tag="$(basename "$(pwd)")_${preset}"  # e.g. vas_tiny
exp_dir="${exp_root}/${tag}"
mkdir -p "${exp_dir}"
run_stage() { [[ ${stage} -le $1 && ${stop_stage} -ge $1 ]]; }
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
  if is_done "${marker}"; then
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
    touch "${marker}"
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
  overrides=("preset=${preset}" "tag=${tag}" "dump_dir=${dump_dir}" "seed=${seed}")  # the video feature's spec comes from ${dump_dir}/<train set>
  [[ -n "${temporal_encoder}" ]] && overrides+=("model.generator.temporal_encoder.name=${temporal_encoder}")
  [[ -n "${acoustic_encoder}" ]] && overrides+=("model.generator.acoustic_encoder.name=${acoustic_encoder}")
  [[ -n "${background_encoder}" ]] && overrides+=("model.generator.background_encoder.name=${background_encoder}")
  [[ -n "${decoder}" ]] && overrides+=("model.generator.decoder.name=${decoder}")
  if [[ -n "${discriminators}" ]]; then
    list=""
    for d in ${discriminators}; do list+="${list:+,}{name:${d}}"; done
    overrides+=("model.discriminators=[${list}]")
  fi
  if [[ ${ngpu} -gt 0 ]]; then
    overrides+=("device=cuda")
    [[ ${ngpu} -gt 1 ]] && overrides+=("dist.nproc_per_node=${ngpu}")
  else
    overrides+=("device=cpu")
  fi
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
    [[ -f "${dir}/model/generator.pt" ]] || { log "stage 2: no exported model in ${dir}/model"; exit 1; }
    touch "${marker}"
  }
  if [[ "${per_category}" == true ]]; then
    for cat in $(cut -d' ' -f1 "${data_dir}/train/category2utt"); do
      train_one "${exp_dir}/cat_${cat}" "exp_dir=${exp_dir}/cat_${cat}" "train.categories=[${cat}]"
    done
  else
    train_one "${exp_dir}" "exp_dir=${exp_dir}"
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
fi

# -- stage 4: vocoding and muxing -----------------------------------------------------------
if run_stage 4; then
  gt="${exp_dir}/infer_${test_set}_gt"
  mkdir -p "${gt}"
  if ! is_done "${gt}/.wav.done"; then
    log "stage 4: vocoding ground-truth mels of ${test_set} -> ${gt} (${vocoder})"
    vs-vocode --gt --dump "${dump_dir}/${test_set}" --data "${data_dir}/${test_set}" \
      --in "${gt}" --vocoder "${vocoder}" --device "${device}" --mux true \
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
    vs-vocode --in "${dir}" --data "${data_dir}/${test_set}" --vocoder "${vocoder}" \
      --device "${device}" --mux true $([[ ${overwrite} == true ]] && echo --overwrite) \
      2>&1 | tee "${dir}.vocode.log"
    touch "${dir}/.wav.done"
  done
fi

# -- stage 5: scoring and listening-test kits -----------------------------------------------
if run_stage 5; then
  compare_args=()
  for c in ${compare}; do compare_args+=(--compare "${c}"); done
  note="${corpus_note}"
  [[ -f "${data_dir}/CORPUS_NOTE" ]] && note="$(cat "${data_dir}/CORPUS_NOTE") ${note}"
  infer_args=()
  for policy in ${eval_policies}; do infer_args+=(--infer "${exp_dir}/infer_${test_set}_${policy}"); done
  log "stage 5: scoring policies '${eval_policies}' with: ${scorers} -> ${exp_dir}/scores"
  mkdir -p "${exp_dir}/scores"
  # one process for every policy: embeddings of references and originals are computed once
  vs-score "${infer_args[@]}" --gt "${exp_dir}/infer_${test_set}_gt" \
    --data "${data_dir}/${test_set}" --scorers "${scorers}" --out "${exp_dir}/scores" \
    --results "${exp_dir}/RESULTS.md" --title "Results: ${tag}" \
    --corpus-note "${note}" "${compare_args[@]}" 2>&1 | tee "${exp_dir}/scores.log"
  if [[ "${listening_kit}" == true ]]; then
    first_policy="${eval_policies%% *}"
    log "stage 5: listening-test kits (${first_policy} pairs) -> ${exp_dir}/listening_test"
    vs-listening-kit build --infer "${exp_dir}/infer_${test_set}_${first_policy}" \
      --gt "${exp_dir}/infer_${test_set}_gt" \
      --data "${data_dir}/${test_set}" --out "${exp_dir}/listening_test" --seed "${seed}" \
      2>&1 | tee "${exp_dir}/listening_kit.log"
  fi
  # the recipe folder's RESULTS.md shows the latest result of an experiment kept beside it
  if [[ "${exp_root}" != /* ]]; then
    cp "${exp_dir}/RESULTS.md" RESULTS.md
    # with the figures it links (vs-score writes them to figures/ beside RESULTS.md)
    rm -rf figures
    if [[ -d "${exp_dir}/figures" ]]; then cp -r "${exp_dir}/figures" figures; fi
  fi
fi

log "Successfully finished [elapsed=${SECONDS}s]"
