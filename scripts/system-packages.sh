#!/usr/bin/env bash
# Installs the Debian packages a set-up step needs, only those missing, with apt-get.
#   base  what creating the venv needs (python3-venv where ensurepip is absent)
#   test  what the test suite needs (real programs the tests run: added by later issues)
# The app (base) renders through Kivy's bundled SDL2 on the system's GL: Mesa EGL/GL drivers give
# it a window or, with SDL_VIDEODRIVER=offscreen, a headless surface; mtdev is Kivy's touch input.
set -euo pipefail
want=()
case "${1:-base}" in
  base)
    python3 -c 'import ensurepip' 2>/dev/null || want+=(python3-venv)
    want+=(libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri libmtdev1)
    ;;
  test)
    # sqlite3's FTS5 trigram tokenizer (SQLite >= 3.34) is needed by search; Debian 12 has 3.40.
    python3 - <<'PY' || { echo "system-packages: SQLite with FTS5 trigram is required" >&2; exit 1; }
import sqlite3
sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
PY
    # The UI tests render offscreen through Mesa (llvmpipe): the same libraries the app needs.
    want+=(libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri libmtdev1)
    # The voice tests: kamailio as the PBX, sipp (sip-tester, with its pcaps) as callers and
    # phones; espeak-ng and sox regenerate the IVR prompts (scripts/voice-prompts.sh).
    want+=(kamailio sip-tester espeak-ng sox)
    ;;
  *) echo "usage: $0 base|test" >&2; exit 2 ;;
esac
missing=()
for pkg in "${want[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
