"""Finding the system binaries, with an install hint when one is missing."""

from __future__ import annotations

import glob
import os
import shutil

from app.devstack.errors import DevStackError

INSTALL_HINT = "run ./scripts/install.sh (or: apt-get install {package})"


def find_binary(name: str, package: str, extra_dirs: list[str] | None = None) -> str:
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs or []:
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise DevStackError(f"`{name}` is not installed: {INSTALL_HINT.format(package=package)}")


def postgres_bindir() -> str:
    """Debian keeps initdb and pg_ctl in /usr/lib/postgresql/<major>/bin, off the PATH."""
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: int(path.split("/")[-2]) if path.split("/")[-2].isdigit() else 0,
    )
    extra = versions[-1:] if versions else []
    initdb = find_binary("initdb", "postgresql", extra) if not extra else extra[0] + "/initdb"
    return os.path.dirname(os.path.realpath(initdb))
