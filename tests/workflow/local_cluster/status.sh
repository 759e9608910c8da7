#!/usr/bin/env bash
# Status of a job started by submit.sh: success or failed from its recorded exit code, running
# while it has none and its process lives.
set -u
exit_file="${SPYRALFLOW_TEST_SUBMISSIONS:?}/exit-$1"
if [ -f "$exit_file" ]; then
    if [ "$(cat "$exit_file")" = "0" ]; then echo success; else echo failed; fi
elif kill -0 "$1" 2>/dev/null; then
    echo running
else
    echo failed
fi
