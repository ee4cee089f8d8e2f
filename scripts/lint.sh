#!/usr/bin/env bash
# Static analysis of the project's C code: cppcheck, clang-tidy (checks in .clang-tidy), the
# banned-function check (scripts/checksrc.sh) and formatting (.clang-format). Any finding fails.
# usage: scripts/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=(common/src webhook certs controller)
echo "cppcheck $(cppcheck --version | cut -d' ' -f2)"
cppcheck --quiet --enable=warning,portability,performance --inline-suppr --error-exitcode=1 \
  -I common/include -I webhook -I certs -I controller --library=scripts/cppcheck/json-c.cfg "${dirs[@]}"
cmake -S . -B build-tidy -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DFO_TESTS=OFF >/dev/null
echo "clang-tidy $(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)"
out=$(run-clang-tidy -p build-tidy -quiet "$PWD/(common|webhook|certs|controller)/" 2>&1) || { printf '%s\n' "$out" | grep -E -A3 'warning:|error:' | head -80; echo "lint: clang-tidy findings"; exit 1; }
bash scripts/checksrc.sh
echo "clang-format $(clang-format --version | sed -n 's/.*version \([0-9.]*\).*/\1/p')"
unformatted=$(for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find common webhook controller certs bench tests -name '*.[ch]'); do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
if [ -n "$unformatted" ]; then
  printf '%s\n' $unformatted
  echo "lint: not formatted as .clang-format says (clang-format -i FILE...)"
  exit 1
fi
echo "lint: clean"
