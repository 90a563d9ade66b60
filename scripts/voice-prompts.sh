#!/usr/bin/env bash
# Regenerates the IVR prompts in assets/voice/ (8 kHz mono 8-bit PCM WAV) with espeak-ng, from
# the texts in lsnode/voice/ivr.py (PROMPT_TEXTS). Needs espeak-ng and sox (apt-get install
# espeak-ng sox). A dealer's own recordings go to DATA/voice/NAME.wav instead (any WAV).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
out=assets/voice
mkdir -p "$out"
"$PY" -c 'from lsnode.voice.ivr import PROMPT_TEXTS as T
for k, v in T.items(): print(f"{k}\t{v}")' | while IFS=$'\t' read -r name text; do
  tmp="$(mktemp --suffix=.wav)"
  espeak-ng -v ru -s 150 -w "$tmp" "$text"
  sox "$tmp" -r 8000 -c 1 -b 8 -e unsigned-integer "$out/$name.wav" norm -3
  rm -f "$tmp"
  echo "$out/$name.wav"
done
