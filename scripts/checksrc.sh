#!/usr/bin/env bash
# Functions the project's C code does not use (as curl's checksrc bans them): unbounded copies
# and formatting (sprintf, vsprintf, strcpy, strcat, gets), non-reentrant tokenising (strtok) and
# conversions that cannot report an error (atoi, atol, atoll, atof). Tests may use them.
# Any hit fails, with file:line. usage: scripts/checksrc.sh
set -euo pipefail
cd "$(dirname "$0")/.."
banned='\b(sprintf|vsprintf|strcpy|strcat|gets|strtok|atoi|atol|atoll|atof)\s*\('
hits=$(grep -rnE "$banned" --include='*.c' --include='*.h' common webhook controller certs bench | grep -vE '//.*checksrc:allow' || true)
if [ -n "$hits" ]; then
  printf '%s\n' "$hits"
  echo "checksrc: banned functions used (use snprintf, fo_buf, strtok_r, strtol with an end check)"
  exit 1
fi
echo "checksrc: clean"
