#!/usr/bin/env bash
# Refreshes the vendored front-end files from the npm registry. Run by a developer when
# upgrading; the output is committed, so neither the app nor CI needs npm or a CDN.
#
#   static/govuk/       GOV.UK Frontend CSS and JS (the GDS Transport font, the crown and
#                       the footer's crest are for central government only: councils use
#                       the system font; scripts/trim_govuk_css.py)
#   tests/browser/axe/  axe-core, injected into pages by the accessibility tests only
set -euo pipefail
cd "$(dirname "$0")/.."
GOVUK_VERSION="${GOVUK_VERSION:-6.6.0}"
AXE_VERSION="${AXE_VERSION:-4.11.4}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund \
  "govuk-frontend@$GOVUK_VERSION" "axe-core@$AXE_VERSION")
dist="$work/node_modules/govuk-frontend/dist/govuk"
rm -rf static/govuk && mkdir -p static/govuk tests/browser/axe
mkdir -p static/govuk/images
cp "$dist/assets/images/favicon.ico" "$dist/assets/images/favicon.svg" static/govuk/images/ 2>/dev/null || true
# Drops GDS Transport and the crown's crest (see the script), after the images are in
# place: it refuses CSS that points at an image we do not ship.
python3 scripts/trim_govuk_css.py "$dist/govuk-frontend.min.css" static/govuk/govuk-frontend.min.css
sed 's|//# sourceMappingURL=.*||' "$dist/govuk-frontend.min.js" > static/govuk/govuk-frontend.min.js
python3 -c "import json,sys; print('govuk-frontend licence:', json.load(open(sys.argv[1]))['license'])" \
  "$work/node_modules/govuk-frontend/package.json" > static/govuk/LICENSE.txt
cp "$work/node_modules/axe-core/axe.min.js" tests/browser/axe/axe.min.js
cp "$work/node_modules/axe-core/LICENSE" tests/browser/axe/LICENSE
echo "govuk-frontend $GOVUK_VERSION, axe-core $AXE_VERSION" > static/govuk/VERSION
echo "Vendored govuk-frontend $GOVUK_VERSION and axe-core $AXE_VERSION."
