#!/usr/bin/env bash
# Set up, then run the main job on the embedded default (SQLite, no server to install):
# print a questionnaire, read the sample scans, show the satisfaction indices,
# and serve the reviewers' UI with the demo batch loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
.venv/bin/omr form list
.venv/bin/omr form render sipas-2017 --sheets 3 --out out/sipas-2017.pdf
.venv/bin/omr scan samples/demo --workers 2 --output out/demo.jsonl || true   # exit 1: the demo batch has broken pages on purpose
if .venv/bin/omr tally --help >/dev/null 2>&1; then
  .venv/bin/omr tally out/demo.jsonl --template sipas-2017 --out-dir out/
fi
if .venv/bin/omr serve --help >/dev/null 2>&1 && [[ "${OMR_DEMO_NO_SERVE:-}" != 1 ]]; then
  exec .venv/bin/omr serve --demo
fi
