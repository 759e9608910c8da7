#!/usr/bin/env bash
# Install Debian's own SLURM (slurmctld, slurmd, client tools) and munge, for the one-node test
# cluster of tests/slurm. Root only; a no-op when the programs are already there.
# Usage: bash tests/slurm/install_slurm.sh
set -euo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
    && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    echo "SLURM and munge are already installed"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "installing SLURM needs root (apt-get)" >&2
    exit 1
fi
# The packages' maintainer scripts would start munge and slurm as services, which
# start_slurm.sh could not stop by pid: forbid service starts during the install, as
# Debian's container images do, unless a policy is already in place.
policy=/usr/sbin/policy-rc.d
temporary_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    temporary_policy=1
fi
cleanup() { if [ "$temporary_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
echo "installed: $(slurmctld -V) and $(munged --version 2>&1 | head -n 1)"
