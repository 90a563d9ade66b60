"""Where a node keeps its data when ``--data`` is not given."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    """``$LSAVTO_DATA``, else the per-user data location (XDG on Linux)."""
    env = os.environ.get("LSAVTO_DATA")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "lsavto"
