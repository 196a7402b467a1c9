"""All-or-nothing output: a set of files appears in a folder completely, or not at all.

Every CLI command that writes files uses :class:`OutputSet`::

    with OutputSet("bliss_out/propagate") as out:
        write_csv(out.path("trajectory.csv"), ...)
        write_oem(out.path("trajectory.oem"), ...)
    # here both files exist under their final names

Inside the ``with`` block ``out.path(name)`` hands out a temporary path in the target folder (same file
system, so the final rename is atomic). When the block ends without an exception every temporary file is
renamed onto its final name; files that were there before are kept aside until all renames succeeded and
put back if one fails. On any exception the temporary files are deleted, folders created for the set
are removed again, and the folder is left as it was.

:func:`check_writable` validates an output folder *before* any computation, without leaving anything.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["OutputFolderError", "OutputSet", "check_writable"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class OutputFolderError(ValueError):
    """The output folder cannot be created or written (a ``ValueError``: bad user input)."""


def _nearest_existing(folder: Path) -> Path:
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    return probe


def check_writable(folder: str | os.PathLike) -> Path:
    """Check that ``folder`` exists as a writable directory or could be created; return it as a Path.

    Probes by creating and deleting a temporary file in the folder or its nearest existing ancestor, so
    it also works where ``os.access`` would lie (running as root, read-only mounts). Leaves nothing.
    Raises :class:`OutputFolderError` with a one-line reason.
    """
    if not str(folder).strip():  # Path("") is ".": an empty --out would write into the current folder
        raise OutputFolderError("--out is empty: give an output folder, e.g. --out bliss_out/run1")
    folder = Path(folder)
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise OutputFolderError(
            f"output folder {str(folder)!r} cannot be created: {str(existing)!r} is a file, not a folder;"
            " choose another --out"
        )
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".bliss-write-probe-")
    except OSError as exc:
        raise OutputFolderError(
            f"output folder {str(folder)!r} is not writable ({exc.strerror} in {str(existing)!r});"
            " choose a writable --out"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return folder


class OutputSet:
    """Context manager collecting files to publish together in ``folder`` (created if missing)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._temps: dict[str, Path] = {}
        self._created_dirs: list[Path] = []
        self._active = False

    # -- context protocol ------------------------------------------------------------------------------
    def __enter__(self) -> "OutputSet":
        check_writable(self.folder)
        missing = []
        probe = self.folder
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        try:
            for d in reversed(missing):
                d.mkdir()
                self._created_dirs.append(d)
        except OSError as exc:
            self._remove_created_dirs()
            raise OutputFolderError(f"cannot create output folder {str(self.folder)!r}: {exc.strerror}") from None
        self._active = True
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._active = False
        if exc_type is None:
            try:
                self._commit()
            except BaseException:
                self._discard()
                raise
        else:
            self._discard()
        return False  # never swallow the exception

    # -- public ----------------------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        """Temporary path (in the target folder) to write the file that will be published as ``name``."""
        if not self._active:
            raise RuntimeError("OutputSet.path() is only valid inside the 'with' block")
        if not name or Path(name).name != name:
            raise ValueError(f"output file name must be a plain file name, got {name!r}")
        if name in self._temps:
            return self._temps[name]
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.", suffix=".tmp")
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; published files get the usual mode
        self._temps[name] = Path(tmp)
        return self._temps[name]

    def final_path(self, name: str) -> Path:
        """Where ``name`` will be once the set is committed."""
        return self.folder / name

    @property
    def names(self) -> list[str]:
        return list(self._temps)

    # -- internals -------------------------------------------------------------------------------------
    def _commit(self) -> None:
        backups: dict[Path, Path] = {}
        done: list[Path] = []
        try:
            for name, tmp in self._temps.items():
                final = self.folder / name
                if final.exists():
                    fd, bak = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.", suffix=".bak")
                    os.close(fd)
                    os.replace(final, bak)
                    backups[final] = Path(bak)
            for name, tmp in self._temps.items():
                final = self.folder / name
                os.replace(tmp, final)
                done.append(final)
        except BaseException:
            for final in done:  # roll back: published files go away, old ones come back
                final.unlink(missing_ok=True)
            for final, bak in backups.items():
                os.replace(bak, final)
            raise
        for bak in backups.values():
            bak.unlink(missing_ok=True)
        self._temps.clear()

    def _discard(self) -> None:
        for tmp in self._temps.values():
            tmp.unlink(missing_ok=True)
        self._temps.clear()
        self._remove_created_dirs()

    def _remove_created_dirs(self) -> None:
        for d in reversed(self._created_dirs):
            try:
                d.rmdir()  # only if empty: never delete anything we did not create
            except OSError:
                pass
        self._created_dirs.clear()
