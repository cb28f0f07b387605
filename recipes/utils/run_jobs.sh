#!/usr/bin/env bash
# Run one command as N parallel jobs, Kaldi style:
#   run_jobs.sh [--backend local|slurm] [--max-jobs-run K] JOB=1:N LOG.JOB.log CMD ARGS...
# Every "JOB" in LOG and in the arguments becomes the job index. Each job writes its own log.
# local: background processes (at most K at once, default = number of cores).
# slurm: one srun per job (inside an allocation) unless VS_SLURM_OPTS asks for more.
# Exits non-zero, naming the failed jobs' logs, if any job fails.
set -euo pipefail

backend=local
max_jobs_run=$(nproc 2>/dev/null || echo 2)
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --max-jobs-run) max_jobs_run=$2; shift 2 ;;
    *) echo "run_jobs.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
if [[ $# -lt 3 || ! "$1" =~ ^JOB=([0-9]+):([0-9]+)$ ]]; then
  echo "usage: run_jobs.sh [--backend local|slurm] JOB=1:N LOG.JOB.log CMD ARGS..." >&2
  exit 1
fi
first=${BASH_REMATCH[1]}
last=${BASH_REMATCH[2]}
log_pattern=$2
shift 2

mkdir -p "$(dirname "${log_pattern}")"
# Jobs running side by side share the cores: give each its share of threads.
if [[ -z "${OMP_NUM_THREADS:-}" ]]; then
  njobs=$((last - first + 1))
  ((njobs > max_jobs_run)) && njobs=${max_jobs_run}
  threads=$(( $(nproc 2>/dev/null || echo 2) / njobs ))
  ((threads < 1)) && threads=1
  export OMP_NUM_THREADS=${threads}
fi
pids=()
jobs_of_pid=()
for ((job = first; job <= last; job++)); do
  args=()
  for a in "$@"; do args+=("${a//JOB/${job}}"); done
  log=${log_pattern//JOB/${job}}
  {
    echo "# ${args[*]}"
    echo "# started at $(date '+%Y-%m-%dT%H:%M:%S') on $(hostname)"
  } >"${log}"
  case "${backend}" in
    local)
      while (($(jobs -rp | wc -l) >= max_jobs_run)); do wait -n || true; done
      ("${args[@]}" >>"${log}" 2>&1; rc=$?; echo "# ended with status ${rc} at $(date '+%Y-%m-%dT%H:%M:%S')" >>"${log}"; exit ${rc}) &
      ;;
    slurm)
      # shellcheck disable=SC2086
      (srun --ntasks=1 ${VS_SLURM_OPTS:-} "${args[@]}" >>"${log}" 2>&1; rc=$?; echo "# ended with status ${rc}" >>"${log}"; exit ${rc}) &
      ;;
    *)
      echo "run_jobs.sh: unknown backend ${backend} (local or slurm)" >&2
      exit 1
      ;;
  esac
  pids+=($!)
  jobs_of_pid+=("${job}")
done

failed=()
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    failed+=("${log_pattern//JOB/${jobs_of_pid[$i]}}")
  fi
done
if ((${#failed[@]})); then
  echo "run_jobs.sh: ${#failed[@]} of $((last - first + 1)) jobs failed; see ${failed[*]}" >&2
  exit 1
fi
