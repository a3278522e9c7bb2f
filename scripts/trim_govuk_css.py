#!/usr/bin/env python3
"""Trim GOV.UK Frontend's CSS to what a council may ship: `trim_govuk_css.py SRC DEST`.

Run by scripts/vendor-frontend.sh on each upgrade; running it again on its own output
changes nothing. It removes:

- the GDS Transport @font-face rules and name: the typeface is licensed to GOV.UK only,
  so councils use the system font;
- the footer's crest (`govuk-footer__copyright-logo`): it is the Royal Arms over
  "© Crown copyright", which belongs to central government, not to a council's own
  service, and our footer does not show it. Leaving the rule in would reference an image
  we do not ship, and the manifest storage used in production refuses to collect CSS
  that points at a missing file (every page then fails);
- the source-map comment (the map is not shipped).

It then fails if any url() left in the CSS points at a file missing beside DEST, so the
next upgrade cannot bring back a reference that breaks `collectstatic` in production.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CREST_RULE = re.compile(r"\.govuk-footer__copyright-logo:before\{[^}]*\}")
# The crest's rules sit alone in @supports and @media blocks, left empty once they go.
EMPTY_BLOCK = re.compile(r"@(?:supports|media)[^{}]*\{\}")


def trim(css: str) -> str:
    css = re.sub(r"@font-face\{[^}]*\}", "", css)
    css = css.replace("/*# sourceMappingURL=govuk-frontend.min.css.map */", "")
    css = re.sub(r'"?GDS Transport"?,', "", css)
    css = css.replace("url(/assets/images/", "url(images/")
    css = CREST_RULE.sub("", css)
    while EMPTY_BLOCK.search(css):
        css = EMPTY_BLOCK.sub("", css)
    return css


def missing_urls(css: str, folder: Path) -> list[str]:
    urls = re.findall(r"url\(([^)]*)\)", css)
    local = [u.strip("\"'") for u in urls if not u.strip("\"'").startswith(("data:", "#"))]
    return sorted({u for u in local if not (folder / u).is_file()})


def main(source: str, dest: str) -> int:
    css = trim(Path(source).read_text(encoding="utf-8"))
    target = Path(dest)
    if missing := missing_urls(css, target.parent):
        print(f"{source}: the CSS refers to files not shipped: {', '.join(missing)}")
        return 1
    target.write_text(css, encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
