#!/usr/bin/env bash
# Browser test of `sim serve` (issue 20): Debian's chromium and chromium-driver driven by Python
# selenium in a virtual environment under target/, downloading no browser or driver.
# Usage: sim-cli/tests/browser/run.sh [SIM_BIN]   (screenshots in target/tmp/workshop-screenshots/)
set -euo pipefail
cd "$(dirname "$0")/../../.."
sim=${1:-target/release/sim}
for tool in /usr/bin/chromium /usr/bin/chromedriver; do
    if [ ! -x "$tool" ]; then
        echo "skipped the browser test of sim serve: $tool is missing (apt-get install chromium chromium-driver)"
        exit 0
    fi
done
venv=target/workshop-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r sim-cli/tests/browser/requirements.txt
mkdir -p target/tmp
SE_OFFLINE=true "$venv/bin/python" sim-cli/tests/browser/workshop.py "$sim" target/tmp
