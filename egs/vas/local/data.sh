#!/usr/bin/env bash
# Stage 0 for VAS: list the clips, conform them (ffmpeg: mono 22050 Hz, 21.5 fps, 256x340,
# padded/clipped), split per category and write data/{train,valid,test}. Without VAS, build the
# built-in corpus of real recorded drum sounds (real_sfx, from Debian's hydrogen-drumkits) first
# and say so loudly (--corpus vas_synth: the built-in synthetic corpus; neither is VAS).
set -euo pipefail
# shellcheck disable=SC1091
. ../../recipes/utils/log.sh
# shellcheck disable=SC1091
. ./db.sh

data_dir=data
media_dir=dump/media
nj=2
strict=false
duration=10
fps=21.5
height=256
width=340
sample_rate=22050
pad=loop
seed=1
corpus=""              # vas, real_sfx or vas_synth ("" = vas when $VAS exists, else real_sfx)
categories=""          # VAS categories to use ("" = all present)
split=paper            # paper (32 valid / 32 test per category), regnet, manifest
valid_size=32
test_size=32
synth_train=16         # built-in corpus: clips per category and split
synth_valid=2
synth_test=4
synth_categories=""    # built-in corpus categories ("" = its default set)
real_train=32          # real_sfx: clips per category and split
real_valid=4
real_test=8
real_categories=""     # real_sfx categories ("" = kick snare hihat cymbal)
real_category_pictures=false  # real_sfx: one fixed shape and colour per category
help_message="Usage: $0 [options]  (stage 0 of egs/vas)"
# shellcheck disable=SC1091
. ../../recipes/utils/parse_options.sh

if [[ -z "${corpus}" ]]; then
  if [[ -n "${VAS}" && -d "${VAS}" ]]; then corpus=vas; else corpus=real_sfx; fi
fi
mkdir -p "${data_dir}"
common=(--out-data "${data_dir}" --out-media "${media_dir}" --nj "${nj}" --strict "${strict}"
        --duration "${duration}" --fps "${fps}" --height "${height}" --width "${width}"
        --sample-rate "${sample_rate}" --pad "${pad}" --seed "${seed}")
case "${corpus}" in
  vas)
    [[ -d "${VAS}" ]] || { log "VAS=${VAS} is not a directory (set it in db.sh or the environment)"; exit 1; }
    log "corpus: VAS at ${VAS}"
    rm -f "${data_dir}/CORPUS_NOTE"
    cat_args=()
    # shellcheck disable=SC2206
    [[ -n "${categories}" ]] && cat_args=(--categories ${categories})
    vs-prepare-data --corpus vas --corpus-config "root=${VAS}" "${cat_args[@]}" --split "${split}" \
      --valid-size "${valid_size}" --test-size "${test_size}" "${common[@]}"
    ;;
  vas_synth)
    log "############################################################################"
    log "# VAS is not available (VAS='${VAS}'): using the BUILT-IN SYNTHETIC corpus  #"
    log "# in ${VAS_SYNTH}. Results are NOT comparable with the paper's.            #"
    log "############################################################################"
    echo "**Corpus: the built-in synthetic corpus (vas_synth), not VAS.** Numbers below are not comparable with the paper's." \
      >"${data_dir}/CORPUS_NOTE"
    synth_cfg=("root=${VAS_SYNTH}" "n_train=${synth_train}" "n_valid=${synth_valid}"
               "n_test=${synth_test}" "duration=${duration}" "seed=${seed}")
    [[ -n "${synth_categories}" ]] && synth_cfg+=("categories=[${synth_categories// /,}]")
    vs-prepare-data --corpus vas_synth --corpus-config "${synth_cfg[@]}" --split manifest \
      "${common[@]}"
    ;;
  real_sfx)
    log "############################################################################"
    log "# corpus real_sfx: the BUILT-IN corpus of real recorded drum sounds from"
    log "# Debian's hydrogen-drumkits, under synthetic pictures, in ${REAL_SFX}."
    log "# It is NOT VAS: results are not comparable with the paper's."
    log "############################################################################"
    echo "**Corpus: the built-in corpus of real recorded drum sounds from Debian's hydrogen-drumkits (real_sfx), not VAS.** Numbers below are not comparable with the paper's." \
      >"${data_dir}/CORPUS_NOTE"
    real_cfg=("root=${REAL_SFX}" "n_train=${real_train}" "n_valid=${real_valid}"
              "n_test=${real_test}" "duration=${duration}" "seed=${seed}"
              "category_pictures=${real_category_pictures}")
    [[ -n "${real_categories}" ]] && real_cfg+=("categories=[${real_categories// /,}]")
    vs-prepare-data --corpus real_sfx --corpus-config "${real_cfg[@]}" --split manifest \
      "${common[@]}"
    ;;
  *)
    log "unknown corpus '${corpus}' for egs/vas (vas, vas_synth or real_sfx)"
    exit 1
    ;;
esac
