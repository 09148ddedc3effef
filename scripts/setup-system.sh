#!/bin/sh
# Install the Debian packages the tests need, when running as root and they are missing:
#   chromium                  - the audit report is checked in headless Chromium (tests/test_audit.py)
#   libreoffice-writer-nogui  - DOCX → PDF for the fixture generator (scripts/make_fixtures.py)
#   fonts-noto-cjk            - Chinese fonts for those PDFs and for the browser screenshots
#   postgresql                - initdb/pg_ctl: the storage tests start their own server (tests/pg.py)
# Not root, no apt-get, or everything present: do nothing, quietly (the tests skip what they cannot run).
set -u
[ "$(id -u)" = "0" ] || exit 0
command -v apt-get >/dev/null 2>&1 || exit 0
missing=""
for pkg in chromium libreoffice-writer-nogui fonts-noto-cjk postgresql; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -n "$missing" ] || exit 0
echo "setup-system: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
    echo "setup-system: could not install$missing (the tests that need them will be skipped)" >&2
    exit 0
}
