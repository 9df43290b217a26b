"""The static build: vendor files from npm, content-hashed names, precompressed br and gz."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from app.settings import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "app" / "static"
NODE_MODULES = PROJECT_ROOT / "node_modules"
# (file in node_modules, name under app/static/vendor); package.json pins the versions.
VENDOR_FILES = [("htmx.org/dist/htmx.min.js", "htmx.min.js")]


class AssetsError(RuntimeError):
    pass


def copy_vendor_files() -> None:
    vendor = SOURCE / "vendor"
    vendor.mkdir(exist_ok=True)
    for source, name in VENDOR_FILES:
        path = NODE_MODULES / source
        if not path.exists():
            raise AssetsError(f"{path} is missing: run `npm install` in {PROJECT_ROOT}")
        shutil.copyfile(path, vendor / name)


def build_static(destination: Path, source: Path = SOURCE) -> None:
    """Copy vendor files in, then hash, write the manifest and compress into `destination`.

    `source` is app/static; tests pass a changed copy to see names follow content."""
    if source == SOURCE:
        copy_vendor_files()
    bindir = Path(sys.executable).parent
    steps = [
        [str(bindir / "servestatic"), "--hash", "--manifest", "--clear", "-q"],
        [sys.executable, "-m", "whitenoise.compress", "-q"],
    ]
    done = subprocess.run(
        [*steps[0], str(source), str(destination)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise AssetsError(f"static build failed: {done.stderr.strip()}")
    done = subprocess.run(
        [*steps[1], str(destination)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise AssetsError(f"compressing static files failed: {done.stderr.strip()}")
