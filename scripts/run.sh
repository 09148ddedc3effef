#!/usr/bin/env bash
# Set up and run the main job on the bundled fixtures: parse every real report, write JSON and CSV per
# report into out/, and print each summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
for f in fixtures/real/*.pdf fixtures/real/*.docx fixtures/real/*.txt fixtures/real/*.md fixtures/real/*.html; do
  [ -e "$f" ] || continue
  name=$(basename "$f")
  .venv/bin/extractor parse "$f" --format json -o "out/$name.json" || { echo "failed: $f"; continue; }
  .venv/bin/extractor parse "$f" --format csv -o "out/$name.csv"
  .venv/bin/extractor parse "$f"
  echo "------------------------------------------------------------------------"
done
echo "JSON and CSV per report are in out/"
