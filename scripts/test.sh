#!/usr/bin/env bash
# Quick start, command 2: install into ./.venv and run the whole test suite, on
# SQLite and on the PostgreSQL at 127.0.0.1:5432 (database "test"; override with
# TELEBRIDGE_TEST_PG_URL). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv dev
exec .venv/bin/python -m pytest "$@"
