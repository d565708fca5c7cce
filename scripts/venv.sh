# Sourced by the quick-start scripts: make ./.venv with telebridge installed in it.
# Reinstalls only when pyproject.toml changed since the last install.

find_python() {
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "$candidate"
            return 0
        fi
    done
    echo "telebridge needs Python 3.11 or newer" >&2
    return 1
}

ensure_venv() {
    local extras="$1"
    local stamp=".venv/.installed-$extras"
    if [ ! -x .venv/bin/python ]; then
        "$(find_python)" -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        .venv/bin/python -m pip install --quiet -e ".[$extras]"
        touch "$stamp"
    fi
}
