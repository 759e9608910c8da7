#!/usr/bin/env bash
# Status of one SLURM job for Snakemake's cluster-generic executor: running, success or failed.
# squeue knows running and recently ended jobs; sacct (when accounting exists) knows the rest.
set -u
job="$1"
state=$(squeue --noheader --states=all --format=%T --jobs "$job" 2>/dev/null | head -n 1)
if [ -z "$state" ] && command -v sacct >/dev/null; then
    state=$(sacct --noheader --parsable2 --format=State --jobs "$job" 2>/dev/null | head -n 1)
fi
case "${state%% *}" in
    COMPLETED) echo success ;;
    PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|RESIZING|"") echo running ;;
    *) echo failed ;;
esac
