# Shared by the scripts: finds the interpreter, its leg and its virtual environment.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The interpreter: $PYTHON, else python3.14, else a Python 3.13 (also pyenv's).
find_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
  local candidate
  for candidate in python3.14 python3.13 "$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3.13; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      command -v "$candidate"; return
    fi
  done
  echo "no Python 3.14 or 3.13 found: set PYTHON to one" >&2
  return 1
}

# The leg ("current" or "minimum") that an interpreter's version selects.
leg_of() {
  case "$("$1" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')" in
    3.14) echo current ;;
    3.13) echo minimum ;;
    *) echo "Python 3.14 (current leg) or 3.13 (minimum leg) is needed, not $1" >&2; return 1 ;;
  esac
}

PYTHON_BIN=$(find_python)
LEG=$(leg_of "$PYTHON_BIN")
VENV=${VENV:-$ROOT/.venv/$LEG}
VPY=$VENV/bin/python
export PATH="$VENV/bin:$PATH"
