#!/usr/bin/env bash
# Job backend for parallel stages. "local" runs background processes on this machine;
# "slurm" runs each job through srun (submit the recipe itself with sbatch, or set
# VS_SLURM_OPTS, e.g. "--partition=cpu --time=2:00:00 --mem=8G").
cmd_backend="${cmd_backend:-local}"
# shellcheck disable=SC2034
decode_cmd="run_jobs.sh --backend ${cmd_backend}"
