#!/usr/bin/env bash
# Set up and run the main job on the bundled fixtures:
#   1. parse every real report in fixtures/real → out/<name>.json and out/<name>.csv, with a summary each;
#   2. ingest the real reports and the labelled corpus into out/reports.db;
#   3. write the side-by-side comparison out/compare.xlsx and out/compare.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
for f in fixtures/real/*.pdf fixtures/real/*.docx fixtures/real/*.txt fixtures/real/*.md fixtures/real/*.html; do
  [ -e "$f" ] || continue
  case "$f" in */README.md) continue ;; esac
  name=$(basename "$f")
  .venv/bin/extractor parse "$f" --format json -o "out/$name.json" || { echo "failed: $f"; continue; }
  .venv/bin/extractor parse "$f" --format csv -o "out/$name.csv"
  .venv/bin/extractor parse "$f"
  echo "------------------------------------------------------------------------"
done
.venv/bin/extractor ingest fixtures/real fixtures/corpus --db out/reports.db
.venv/bin/extractor compare --db out/reports.db --out out/compare.xlsx
.venv/bin/extractor compare --db out/reports.db --out out/compare.csv
echo "Per-report JSON/CSV, out/reports.db, out/compare.xlsx and out/compare.csv are in out/"
echo
echo "Review workspace (web pages + JSON API) on this database:"
echo "  .venv/bin/extractor users add admin --role admin --db out/reports.db     # the first admin (asks for a password)"
echo "  .venv/bin/extractor serve --db out/reports.db --data-dir out/workspace   # then open http://127.0.0.1:8765/"
