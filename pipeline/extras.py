"""Optional dependencies: the command that installs one, where texture runs.

The extras of ``pyproject.toml`` (``plot``, ``parquet``, ``dask``) add
features that need more packages.  When one is missing, the error says how
to install it, with a command that works where the user is: in a clone (an
editable install, as ``make`` makes in ``.venv``) the environment's own pip
installs the clone with the extra; elsewhere pip installs the extra's
requirements, named by the installed package's metadata.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["install_hint"]

# The folder holding the `pipeline` package: a clone's root when it has pyproject.toml.
_ROOT = Path(__file__).resolve().parents[1]


def _shown(path: Path) -> str:
    """`path` relative to the working directory when inside it (".venv/bin/pip", "."), else absolute."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


def _pip() -> str:
    """The pip of the running interpreter's environment."""
    pip = Path(sys.executable).with_name("pip")
    return _shown(pip) if pip.is_file() else f"{_shown(Path(sys.executable))} -m pip"


def install_hint(extra: str) -> str:
    """The command that installs the optional dependencies `extra` for this texture.

    Parameters
    ----------
    extra : str
        An extra of ``pyproject.toml``: ``"plot"``, ``"parquet"``, ``"dask"``.

    Returns
    -------
    command : str
        From a clone, e.g. ``.venv/bin/pip install -e '.[parquet]'``; from an
        installed package, e.g. ``pip install 'pyarrow>=14'``.
    """
    if (_ROOT / "pyproject.toml").is_file() and (_ROOT / "pipeline").is_dir():
        return f"{_pip()} install -e '{_shown(_ROOT)}[{extra}]'"
    try:
        requires = metadata.requires("texture") or []
    except metadata.PackageNotFoundError:  # neither a clone nor installed: the extra's name is all we know
        return f"{_pip()} install 'texture[{extra}]'"
    marker = f'extra == "{extra}"'
    return f"{_pip()} install " + " ".join(f"'{r.split(';')[0].strip()}'" for r in requires if marker in r)
