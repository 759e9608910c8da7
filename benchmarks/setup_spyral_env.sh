#!/usr/bin/env bash
# Build the reference environment the benchmarks compare against: attpc_spyral 1.1.2 in its own
# venv (it needs spyral-utils 2.1, which builds from source with Debian's Eigen, while spyralflow
# pins the pure-Python spyral-utils 2.0). Usage: bash benchmarks/setup_spyral_env.sh [VENV_DIR]
set -euo pipefail
venv="${1:-${SPYRAL_VENV:-/opt/spyral-venv}}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import spyral" 2>/dev/null; then
    echo "attpc_spyral already installed in $venv"
    exit 0
fi
if ! dpkg -s libeigen3-dev >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libeigen3-dev cmake
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "attpc_spyral==1.1.2" h5py
"$venv/bin/python" -c "import spyral; print('attpc_spyral', spyral.__name__, 'ready in $venv')"
