#!/usr/bin/env bash
# Set up, then run the main job on the embedded default (SQLite, no server to install):
# print a questionnaire, read the sample scans into JSON lines, show the satisfaction
# indices, then start the service with the demo batch uploaded and ready for review.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
.venv/bin/omr form list
.venv/bin/omr form render sipas-2017 --sheets 3 --out out/phieu-sipas-2017.pdf
# exit 1 = partial failure: the demo batch holds broken files on purpose
.venv/bin/omr scan samples/demo --workers 2 --output out/demo.jsonl || [[ $? == 1 ]]
.venv/bin/omr tally out/demo.jsonl --template sipas-2017 --out-dir out/
[[ "${OMR_DEMO_NO_SERVE:-}" == 1 ]] && exit 0

export OMR_DATA_DIR="${OMR_DATA_DIR:-$PWD/omr-data}"
PORT="${PORT:-8000}"
ADMIN=$(.venv/bin/omr user add admin --role admin 2>/dev/null)
OPERATOR=$(.venv/bin/omr user add operator --role operator 2>/dev/null)
REVIEWER=$(.venv/bin/omr user add reviewer --role reviewer 2>/dev/null)
.venv/bin/omr serve --port "$PORT" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
trap 'exit 130' INT TERM  # then the EXIT trap stops the server, which stops its readers
until curl -s -o /dev/null "http://127.0.0.1:$PORT/api/me"; do sleep 0.3; done
ROUND="Demo $(date +%Y%m%d-%H%M%S)"
curl -s -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d "{\"name\": \"$ROUND\", \"template\": \"sipas-2017\", \"period\": \"demo\"}" "http://127.0.0.1:$PORT/api/rounds" >/dev/null
files=()
for f in samples/demo/*; do case "$f" in *.pdf|*.jpg|*.png|*.tif) files+=(-F "files=@$f");; esac; done
curl -s -H "Authorization: Bearer $OPERATOR" -F "round=$ROUND" "${files[@]}" "http://127.0.0.1:$PORT/api/batches"; echo
cat <<TXT

Dịch vụ đang chạy: http://127.0.0.1:$PORT/  (API: /docs)
  quản trị  admin    $ADMIN
  nhập phiếu operator $OPERATOR
  duyệt     reviewer $REVIEWER
Ctrl-C để dừng.
TXT
wait $SERVER
