#!/usr/bin/env bash
# log MESSAGE...: one line with time, calling script and line, to stderr (sourced by recipes).
log() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}
