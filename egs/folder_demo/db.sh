#!/usr/bin/env bash
# A folder of videos with one sub-folder per category (<root>/<category>/*.mp4), or a CSV/TSV
# manifest with columns path, category[, split]. Set one of them.
FOLDER=${FOLDER:-}
MANIFEST=${MANIFEST:-}
