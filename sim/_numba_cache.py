"""Where numba keeps its on-disk cache of our compiled kernels.

numba checks a cached function against its own source file only: when a kernel in one file calls a
kernel in another (the integrator calls the dynamics, the batch and the optimiser call the integrator)
and only the callee changes, numba would load the stale caller with the old callee compiled in; the
same holds for module constants a kernel reads from another file (``sim.constants.GM_SUN`` is frozen
into the machine code). To make that impossible, unless the user has chosen a cache directory
(``NUMBA_CACHE_DIR``), we point numba at a directory named by a hash of the *kernel sources*: every
Python file of ``sim/`` and ``bliss/`` that imports numba, plus the project modules those files import
at their top level (where their callees and constants come from), followed transitively, plus the numba
version. Any change to a kernel, a callee or a constant starts a fresh cache; a change anywhere else (the
CLI, the writers, the plots) keeps it, and numba's own per-function check then reuses every kernel.

No numba import here: ``sim`` is imported by everything in ``bliss`` (``bliss --help`` included), and
importing numba costs ~0.4 s. The directory is handed to numba through the ``NUMBA_CACHE_DIR``
environment variable, which numba reads when it is first imported (and on a config reload); if numba is
already imported we also set its live config.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
_PACKAGES = ("sim", "bliss")

#: A module defines numba kernels when it imports numba at its top level.
_IMPORTS_NUMBA = re.compile(r"^(?:from numba\b|import numba\b)", re.M)
#: Top-level imports of our own modules: ``from sim.x import a, b``, ``from sim import x``, ``import sim.x``.
_PROJECT_IMPORT = re.compile(
    r"^(?:from\s+((?:sim|bliss)(?:\.\w+)*)\s+import\s+(\([^)]*\)|[^\n]*)|import\s+((?:sim|bliss)(?:\.\w+)*))",
    re.M)


def _module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _imported_files(root: Path, text: str) -> set[Path]:
    """Files of the project modules that ``text`` imports at its top level."""
    out = set()
    for m in _PROJECT_IMPORT.finditer(text):
        dotted = m.group(1) or m.group(3)
        f = _module_file(root, dotted)
        if f is not None:
            out.add(f)
        if m.group(2):  # ``from package import module`` names a module file too
            for name in re.findall(r"\w+", m.group(2).split("#")[0]):
                f = _module_file(root, f"{dotted}.{name}")
                if f is not None:
                    out.add(f)
    return out


def kernel_sources(root: Path = _ROOT) -> list[Path]:
    """The files the compiled kernels depend on (see the module docstring), sorted."""
    texts = {}
    for pkg in _PACKAGES:
        for path in (root / pkg).rglob("*.py"):
            texts[path] = path.read_text(encoding="utf-8")
    todo = [p for p, t in texts.items() if _IMPORTS_NUMBA.search(t)]
    seen = set(todo)
    while todo:
        path = todo.pop()
        for dep in _imported_files(root, texts.get(path) or path.read_text(encoding="utf-8")):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return sorted(seen)


def _numba_version() -> bytes:
    """numba's version file (its bytes change with every release), found without importing numba
    (``importlib.metadata`` would cost ~15 ms on every start)."""
    from importlib.util import find_spec

    spec = find_spec("numba")
    if spec is None or not spec.origin:
        return b"no numba"
    version_file = Path(spec.origin).parent / "_version.py"
    try:
        return version_file.read_bytes()
    except OSError:
        return spec.origin.encode()


def source_hash(root: Path = _ROOT) -> str:
    h = hashlib.sha256(_numba_version())
    h.update(sys.version.encode())
    for path in kernel_sources(root):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _stat_fingerprint(root: Path) -> str:
    """A digest of every source file's path, size and modification time, and numba's and Python's versions:
    no file is read (a few ms against ~50 ms for :func:`source_hash`), and any edit changes it."""
    h = hashlib.sha256(_numba_version())
    h.update(sys.version.encode())
    todo = [root / pkg for pkg in _PACKAGES]
    while todo:
        try:
            entries = sorted(os.scandir(todo.pop()), key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False) and e.name != "__pycache__":
                todo.append(Path(e.path))
            elif e.name.endswith(".py"):
                st = e.stat()
                h.update(f"{e.path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _memo_source_hash(root: Path, base: Path) -> str:
    """:func:`source_hash`, remembered in ``base`` against :func:`_stat_fingerprint` (every command starts by
    naming the cache directory: reading all sources each time cost 30-50 ms of ``bliss --help``)."""
    memo = base / f"source-hash-{hashlib.sha256(str(root).encode()).hexdigest()[:12]}"
    fingerprint = _stat_fingerprint(root)
    try:
        stored_fp, stored_hash = memo.read_text(encoding="ascii").split()
        if stored_fp == fingerprint:
            return stored_hash
    except (OSError, ValueError):
        pass
    key = source_hash(root)
    try:
        tmp = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
        tmp.write_text(f"{fingerprint} {key}\n", encoding="ascii")
        os.replace(tmp, memo)  # atomic: a concurrent start reads the old or the new line, never half
    except OSError:
        pass
    return key


def configure(root: Path = _ROOT) -> str | None:
    """Point numba's cache at the per-source-hash directory; return it (None if the user chose one)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bliss" / "numba"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # unwritable home: numba falls back to its defaults
    target = base / _memo_source_hash(root, base)
    try:
        target.mkdir(parents=True, exist_ok=True)
        os.utime(target)  # "recently used", for _prune
    except OSError:
        return None  # unwritable home: numba falls back to its defaults
    os.environ["NUMBA_CACHE_DIR"] = str(target)  # read by numba at its import (child processes inherit it)
    if "numba" in sys.modules:  # numba already imported (by the user's code): set its live config too
        from numba.core import config

        config.CACHE_DIR = str(target)
    _prune(base, keep=target)
    return str(target)


def _prune(base: Path, keep: Path, n_keep: int = 4) -> None:
    """Remove the caches of older kernel sources, keeping the ``n_keep`` most recently used."""
    import shutil

    try:
        others = sorted((d for d in base.iterdir() if d.is_dir() and d != keep),  # (memo files are not dirs)
                        key=lambda d: d.stat().st_mtime, reverse=True)
        for d in others[n_keep - 1:]:
            shutil.rmtree(d, ignore_errors=True)
    except OSError:
        pass
