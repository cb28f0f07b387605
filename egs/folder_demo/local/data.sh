#!/usr/bin/env bash
# Stage 0 for a folder-of-videos (or manifest) corpus: conform, split per category, write
# data/{train,valid,test}.
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
corpus=folder
valid_size=2           # clips per category held out for validation
test_size=2            # and for testing (a manifest's split column overrides both)
help_message="Usage: FOLDER=dir $0 [options]  or  MANIFEST=file.tsv $0 [options]"
# shellcheck disable=SC1091
. ../../recipes/utils/parse_options.sh

common=(--out-data "${data_dir}" --out-media "${media_dir}" --nj "${nj}" --strict "${strict}"
        --duration "${duration}" --fps "${fps}" --height "${height}" --width "${width}"
        --sample-rate "${sample_rate}" --pad "${pad}" --seed "${seed}"
        --valid-size "${valid_size}" --test-size "${test_size}")
if [[ -n "${MANIFEST}" ]]; then
  log "corpus: manifest ${MANIFEST}"
  vs-prepare-data --corpus manifest --corpus-config "path=${MANIFEST}" --split manifest "${common[@]}"
elif [[ -n "${FOLDER}" && -d "${FOLDER}" ]]; then
  log "corpus: folder ${FOLDER}"
  vs-prepare-data --corpus folder --corpus-config "root=${FOLDER}" --split paper "${common[@]}"
else
  log "set FOLDER (a folder with one sub-folder of videos per category) or MANIFEST (csv/tsv)"
  exit 1
fi
