#!/usr/bin/env bash
# Install everything the project needs on a Debian machine: system packages and a virtualenv.
#   scripts/setup.sh          runtime (tesseract + Vietnamese, poppler, fonts)
#   scripts/setup.sh --dev    also what the tests use (LibreOffice for the XLSX check, Chromium for the UI tests)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

# postgresql-client: pg_dump/pg_restore for omr backup/restore of a PostgreSQL database
pkgs=(python3 python3-venv python3-pip tesseract-ocr tesseract-ocr-vie poppler-utils fonts-noto-core fonts-dejavu-core postgresql-client)
if [[ "${1:-}" == "--dev" ]]; then
  pkgs+=(chromium libreoffice-calc-nogui)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
extra=""
[[ "${1:-}" == "--dev" ]] && extra="[dev]"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e ".${extra}" 2>&1 | grep -v -E "^(WARNING: Location|  WARNING)" || true
.venv/bin/python -c "import cv2, omr" || { echo "setup: the Python install failed" >&2; exit 1; }
echo "setup: ready (.venv)" >&2
