"""Where the shipped files (fonts, icons, IVR prompts, the report logo) are found.

They live in ``assets/`` at the repository root, beside the ``lsnode`` package: an editable
install (``pip install -e .``, what ``make`` does) reads them in place. Nothing here imports
Kivy, so the hub and reports can find the fonts too. ``LSAVTO_ASSETS`` overrides the location
(a packaged build that puts them elsewhere, e.g. ``<prefix>/share/lsavto/assets``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lsnode.errors import NotFound

_MARKER = Path("fonts") / "Roboto-Regular.ttf"


def _candidates() -> list[Path]:
    found: list[Path] = []
    env = os.environ.get("LSAVTO_ASSETS")
    if env:
        found.append(Path(env).expanduser())
    found.append(Path(__file__).resolve().parent.parent / "assets")
    found.append(Path(sys.prefix) / "share" / "lsavto" / "assets")
    return found


def assets_dir() -> Path:
    """The assets folder; a clear error (not a crash in a font loader) when it is missing."""
    candidates = _candidates()
    for path in candidates:
        if (path / _MARKER).is_file():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise NotFound(f"the app's assets (fonts) are missing; looked in: {tried}")


def asset(*parts: str) -> Path:
    """A file under the assets folder, e.g. ``asset("fonts", "Roboto-Bold.ttf")``."""
    path = assets_dir().joinpath(*parts)
    if not path.exists():
        raise NotFound(f"asset {'/'.join(parts)} is missing from {assets_dir()}")
    return path
