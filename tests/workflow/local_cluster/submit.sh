#!/usr/bin/env bash
# A local stand-in for a batch system: run the job script in the background, print its pid as
# the job id, record the job's exit code, and log each submission so tests can count them.
set -eu
jobscript="$1"
folder="${SPYRALFLOW_TEST_SUBMISSIONS:?set SPYRALFLOW_TEST_SUBMISSIONS}"
mkdir -p "$folder"
nohup bash -c 'bash "$0"; echo $? > "$1/exit-$$"' "$jobscript" "$folder" \
    > "$folder/job-$(basename "$jobscript").out" 2>&1 &
pid=$!
echo "$pid $(grep -o -- '--target-jobs.*--allowed-rules' "$jobscript" | head -c 4000)" \
    >> "$folder/submissions.txt"
echo "$pid"
