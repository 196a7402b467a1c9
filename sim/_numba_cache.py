"""Where numba keeps its on-disk cache of our compiled kernels.

numba checks a cached function against its own source file only: when a kernel in one file calls a
kernel in another (the integrator calls the dynamics, the batch and the optimiser call the integrator)
and only the callee changes, numba would load the stale caller with the old callee compiled in. To make
that impossible, unless the user has chosen a cache directory (``NUMBA_CACHE_DIR``), we point numba at a
directory named by a hash of every Python source of ``sim/`` and ``bliss/`` and the numba version:
any change to any kernel source starts a fresh cache, and a second run of unchanged code loads
everything from disk.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]


def source_hash() -> str:
    import numba

    h = hashlib.sha256(numba.__version__.encode())
    for pkg in ("sim", "bliss"):
        for path in sorted((_ROOT / pkg).rglob("*.py")):
            h.update(str(path.relative_to(_ROOT)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def configure() -> str | None:
    """Point numba's cache at the per-source-hash directory; return it (None if the user chose one)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    from numba.core import config

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bliss" / "numba"
    target = base / source_hash()
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # unwritable home: numba falls back to its defaults
    config.CACHE_DIR = str(target)
    _prune(base, keep=target)
    return str(target)


def _prune(base: Path, keep: Path, n_keep: int = 4) -> None:
    """Remove the caches of older source trees, keeping the ``n_keep`` most recently used."""
    import shutil

    try:
        others = sorted((d for d in base.iterdir() if d.is_dir() and d != keep),
                        key=lambda d: d.stat().st_mtime, reverse=True)
        for d in others[n_keep - 1:]:
            shutil.rmtree(d, ignore_errors=True)
    except OSError:
        pass
