#!/usr/bin/env bash
# Build the optional poliastro-interop environment (hapsira on the old stack: numpy < 2, astropy < 7)
# from scratch in a directory of its own, install this repository into it editable with the
# `poliastro` and `test` extras, and run the interop tests there.
#
# Usage:  bash .ci/poliastro-env.sh [VENV_DIR]
#   VENV_DIR  where to create the virtual environment (default: <repo>/.venv-poliastro, git-ignored).
#             An existing environment there is reused (pip then only checks the requirements).
#   PYTHON    interpreter used to create it (default: python3; needs Python >= 3.11).
# Exit code: pytest's (0 when the interop tests pass).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-$repo/.venv-poliastro}"
python="${PYTHON:-python3}"

t0=$(date +%s)
if [ ! -x "$venv/bin/python" ]; then
    echo "poliastro-env: creating $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$repo[poliastro,test]"
t1=$(date +%s)
echo "poliastro-env: install took $((t1 - t0)) s"
"$venv/bin/python" -c 'import numpy, astropy, hapsira, numba; print("poliastro-env: numpy", numpy.__version__, "astropy", astropy.__version__, "hapsira", hapsira.__version__, "numba", numba.__version__)'

# Keep this environment's numba cache apart from the main environment's (different numba/numpy builds
# would otherwise overwrite each other's cache files in the source tree's __pycache__).
export NUMBA_CACHE_DIR="$venv/numba-cache"
cd "$repo"
"$venv/bin/python" -m pytest -o addopts= -m poliastro tests/test_interop_poliastro.py -q -p no:cacheprovider
