#!/usr/bin/env bash
# sim-py in CI (called by .ci/run after the Rust tests): build the wheel with maturin from this
# checkout, install it into a fresh-or-reused virtual environment, and run the pytest suite
# (sim-py/tests) against the release `sim` binary (built here if missing).
# Needs python3 (>= 3.11) with venv, the Rust toolchain, and PyPI for the pinned packages of
# sim-py/requirements-test.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/py-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r sim-py/requirements-test.txt

[ -x target/release/sim ] || cargo build --release -p sim-cli

# The wheel: abi3 (one wheel for CPython >= 3.11), extension-module on (pyproject.toml).
wheels=target/py-wheels
rm -rf "$wheels"
start=$(date +%s)
"$venv/bin/maturin" build --release --manifest-path sim-py/Cargo.toml --interpreter "$venv/bin/python" --out "$wheels"
echo "sim-py: wheel built in $(( $(date +%s) - start )) s: $(du -h "$wheels"/*.whl | cut -f1) $(basename "$wheels"/*.whl)"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --force-reinstall --no-deps "$wheels"/*.whl

SIM_BIN="$PWD/target/release/sim" "$venv/bin/python" -m pytest -q sim-py/tests
