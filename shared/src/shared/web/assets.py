"""Copy Designsystemet's CSS from `frontend/node_modules` (npm ci) into the page kit's static folder.

`make install` runs this after `npm ci`; every service then serves the same files under `/<service>/static/`.
The copies are not committed: the lock file is the source of truth.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

# What the layout links to, and where each file comes from in node_modules.
VENDOR_FILES = {
    "designsystemet.css": "@digdir/designsystemet-css/dist/src/index.css",
    "theme.css": "@digdir/designsystemet-theme/src/themes/designsystemet.css",
}


def copy_vendor_files(node_modules: Path, target: Path) -> list[Path]:
    """Copy each vendor file; a missing one is an error, since pages would silently lose their styles."""
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name, source in VENDOR_FILES.items():
        origin = node_modules / source
        if not origin.is_file():
            raise FileNotFoundError(f"{origin} is missing: run `make install` (npm ci in frontend/)")
        shutil.copyfile(origin, target / name)
        copied.append(target / name)
    return copied


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m shared.web.assets <node_modules> <target dir>", file=sys.stderr)
        return 2
    for path in copy_vendor_files(Path(argv[0]), Path(argv[1])):
        print(f"copied {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
