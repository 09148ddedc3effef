#!/usr/bin/env bash
# Long fuzzing runs (CI runs only the bounded mutation test in tests/fuzz/test_fuzz.py).
#
#   scripts/fuzz.sh --minutes N [--reader pdf|docx|html|mht|text|image|all] [--seed S]
#
# 1. atheris (coverage-guided, libFuzzer) on each reader for N minutes, seeded with the fixtures of its
#    format; crashes land in out/fuzz/READER/ as crash-*/timeout-*/oom-* files.
# 2. the mutation fuzzer (tests/fuzz/mutate.py) over every fixture, scans and DOC/RTF included, for N
#    minutes, each case in the guard's child process; crashers land in tests/fuzz/crashers/.
# atheris ships wheels for CPython 3.8-3.11 on Linux x86-64 (installed here from the `fuzz` extra);
# where it does not install (other Pythons or platforms) step 1 is skipped with a note and the
# mutation fuzzer is the long-run driver on its own.
# Every crasher becomes a regression: fix the cause, move the file to tests/fuzz/regressions/ and
# write NAME.expected (see the README there).
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=10
READER=all
SEED=$(date +%s)
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --reader) READER="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    *) echo "usage: $0 --minutes N [--reader NAME|all] [--seed S]" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh
PY=.venv/bin/python
SECONDS_EACH=$(( ${MINUTES%.*} * 60 ))

if ! $PY -c "import atheris" 2>/dev/null; then
  $PY -m pip install --quiet -e ".[fuzz]" 2>/dev/null || true
fi
if $PY -c "import atheris" 2>/dev/null; then
  if [ "$READER" = all ]; then readers="pdf docx html mht text image"; else readers="$READER"; fi
  for reader in $readers; do
    corpus="out/fuzz/$reader/corpus"
    mkdir -p "$corpus"
    case "$reader" in
      pdf) pattern='*.pdf' ;; docx) pattern='*.docx' ;; html) pattern='*.htm*' ;; mht) pattern='*.mht*' ;;
      text) pattern='*.md -o -name *.txt' ;; image) pattern='*.png -o -name *.tif*' ;;
    esac
    # shellcheck disable=SC2086
    find fixtures tests/fuzz/regressions -type f \( -name $pattern \) -size -2M -exec cp -n {} "$corpus/" \; 2>/dev/null || true
    echo "atheris: $reader for $MINUTES min (crashes in out/fuzz/$reader/)"
    (cd "out/fuzz/$reader" && "../../../$PY" ../../../tests/fuzz/atheris_target.py "$reader" corpus \
        -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1) || echo "atheris: $reader found a crash (see out/fuzz/$reader/)"
  done
else
  echo "atheris does not install on this Python/platform: running the mutation fuzzer alone"
fi

echo "mutation fuzzer: every fixture for $MINUTES min (seed $SEED)"
$PY -m tests.fuzz.mutate --minutes "$MINUTES" --seed "$SEED" --all-seeds
