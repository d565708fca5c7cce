#!/usr/bin/env bash
# Quick start, command 1: install into ./.venv and run the service on embedded
# defaults (SQLite under ./var, no accounts needed). Extra arguments go to `serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv postgres
exec .venv/bin/telebridge serve "$@"
