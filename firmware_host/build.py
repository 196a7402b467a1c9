"""Build and start the emulated actuator board (stdlib only).

``ensure_built()`` compiles the firmware in ``src/`` with the host HAL in ``host/`` using
``gcc -std=c11 -O2 -Wall -Wextra -Werror`` into a cache directory, rebuilding only when a source
file, the flags or the compiler change. ``start_emulator()`` runs the binary and returns the
process and its pseudo-terminal path. ``ensure_cortexm_built()`` / ``start_cortexm_qemu()`` do the
same for the Cortex-M3 flight build on QEMU's mps2-an385 board (needs arm-none-eabi-gcc and
qemu-system-arm). ``build_binary()`` is the general form, used by the tests
for the C unit tests and the fuzz driver.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import selectors
import shutil
import subprocess
import tempfile
import time
from typing import Iterable, Sequence

__all__ = ["FirmwareBuildError", "ensure_built", "start_emulator", "build_binary", "HERE",
           "ensure_cortexm_built", "ensure_cortexm_trace_built", "start_cortexm_qemu"]

HERE = pathlib.Path(__file__).resolve().parent
CFLAGS = ("-std=c11", "-O2", "-Wall", "-Wextra", "-Werror")
EMULATOR_NAME = "bliss_board_emu"
PTY_LINE_TIMEOUT_S = 10.0  # generous: the binary starts in milliseconds, but CI machines are busy


class FirmwareBuildError(RuntimeError):
    """The C build failed, or the compiler is missing."""


def _sources(globs: Iterable[str]) -> list[pathlib.Path]:
    files: list[pathlib.Path] = []
    for g in globs:
        files.extend(sorted(HERE.glob(g)))
    return files


CORTEXM_FLAGS = ("-Os", "-mcpu=cortex-m3", "-mthumb", "-ffreestanding", "-fno-common",
                 "-ffunction-sections", "-fdata-sections")
QEMU_MACHINE = "mps2-an385"


def _cache_dir() -> pathlib.Path:
    """``firmware_host/_build/`` if writable, else a per-user cache directory."""
    candidates = [HERE / "_build"]
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates.append(pathlib.Path(xdg) / "bliss" / "firmware_host")
    candidates.append(pathlib.Path(tempfile.gettempdir()) / f"bliss-firmware-{os.getuid()}")
    for d in candidates:
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(d, os.W_OK | os.X_OK):
            return d
    raise FirmwareBuildError("no writable build directory: tried " + ", ".join(map(str, candidates)))


def _compiler(cc: str) -> str:
    path = shutil.which(cc)
    if path is None:
        raise FirmwareBuildError(
            f"C compiler '{cc}' not found on PATH: install it (Debian/Ubuntu: apt-get install gcc) "
            "to build the emulated actuator board"
        )
    return path


def _compiler_id(cc_path: str) -> str:
    try:
        out = subprocess.run([cc_path, "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.splitlines()[0] if out.stdout else cc_path
    except (OSError, subprocess.SubprocessError):
        return cc_path


def build_binary(
    name: str,
    sources: Sequence[str | os.PathLike],
    extra_flags: Sequence[str] = (),
    cc: str = "gcc",
    ldflags: Sequence[str] = (),
) -> pathlib.Path:
    """Compile ``sources`` (paths, absolute or relative to this directory) into a cached binary.

    The binary's name carries a hash of the source contents (and every header under src/, host/,
    fuzz/, tests/ and the Cortex-M linker script), the flags and the compiler version, so a change rebuilds and an unchanged tree
    reuses it. Builds go to a temporary file renamed into place, so concurrent callers (threads or
    processes) are safe: each either finds the finished binary or renames an identical one over it.
    """
    cc_path = _compiler(cc)
    srcs = [p if os.path.isabs(p) else HERE / p for p in map(pathlib.Path, sources)]
    for s in srcs:
        if not s.is_file():
            raise FirmwareBuildError(f"firmware source not found: {s}")
    headers = _sources(["src/*.h", "host/*.h", "fuzz/*.h", "tests/*.h", "cortexm/*.ld"])
    h = hashlib.sha256()
    for f in [*srcs, *headers]:
        h.update(str(f.relative_to(HERE) if f.is_relative_to(HERE) else f.name).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    flags = [*CFLAGS, *extra_flags]
    h.update(repr((flags, list(ldflags), _compiler_id(cc_path))).encode())
    out_dir = _cache_dir()
    out = out_dir / f"{name}-{h.hexdigest()[:16]}"
    if out.is_file() and os.access(out, os.X_OK):
        return out
    fd, tmp = tempfile.mkstemp(prefix=f".{name}-", dir=out_dir)
    os.close(fd)
    try:
        cmd = [cc_path, *flags, "-o", tmp, *map(str, srcs), *ldflags]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if res.returncode != 0:
            raise FirmwareBuildError(
                f"building {name} failed ({' '.join(cmd)}):\n{res.stderr.strip()}"
            )
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _prune(out_dir, name, keep=out)
    return out


def _prune(out_dir: pathlib.Path, name: str, keep: pathlib.Path, n_keep: int = 3) -> None:
    """Delete all but the newest ``n_keep`` builds of ``name`` (old source versions)."""
    olds = sorted((p for p in out_dir.glob(f"{name}-*") if p != keep and len(p.name) == len(keep.name)),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for p in olds[n_keep - 1:]:
        try:
            p.unlink()  # a process still running it keeps its copy (POSIX unlink semantics)
        except OSError:
            pass


def ensure_built() -> pathlib.Path:
    """Path of the emulated-board binary, compiling it first if the sources changed."""
    return build_binary(EMULATOR_NAME, _sources(["src/*.c", "host/*.c"]))


def start_emulator(args: Sequence[str] = (), *, stderr=None) -> tuple[subprocess.Popen, str]:
    """Start the emulated board; return ``(process, pty_path)``.

    ``args`` are passed to the binary (``--seed N``, ``--miss-prob P``, ``--boot-id N``,
    ``--stats``, ``--verbose``, ``--no-parent-watch``; ``--parent-pid`` is added with this process's
    pid unless the parent watch is off); ``stderr`` goes to ``subprocess.Popen``
    (default: inherited). Stop it with ``process.terminate()`` then ``process.wait()``: it
    exits 0 on SIGTERM/SIGINT. Raises ``FirmwareBuildError`` if the build fails or the binary does
    not announce its pty within the timeout.
    """
    exe = ensure_built()
    args = [str(a) for a in args]
    if "--no-parent-watch" not in args and "--parent-pid" not in args:
        args += ["--parent-pid", str(os.getpid())]  # the emulator exits when this process is gone
    proc = subprocess.Popen(
        [str(exe), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
    )
    assert proc.stdout is not None
    line = b""
    deadline = time.monotonic() + PTY_LINE_TIMEOUT_S
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(timeout=left):
                break
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                break
            line += chunk
    text = line.decode("ascii", "replace").strip()
    if not text.startswith("PTY /"):
        proc.kill()
        proc.wait()
        raise FirmwareBuildError(
            f"emulated board did not announce its pseudo-terminal (exit code {proc.returncode}, "
            f"first line {text!r}); run {exe} by hand to see why"
        )
    return proc, text[4:]


def ensure_cortexm_built(trace: bool = False) -> pathlib.Path:
    """ELF of the Cortex-M3 flight build for QEMU mps2-an385 (``make cortexm`` does the same).
    ``trace=True``: the test build with ``-DBLISS_PHASE_TRACE`` (every phase write time-stamped in
    RAM, symbol ``bliss_phase_trace``; see cortexm/hal_mps2.c)."""
    ld = HERE / "cortexm" / "mps2_an385.ld"
    return build_binary(
        "bliss_fw_cortexm_trace.elf" if trace else "bliss_fw_cortexm.elf",
        [*_sources(["src/*.c"]), "cortexm/startup.c", "cortexm/hal_mps2.c", "cortexm/libc_min.c"],
        extra_flags=(*CORTEXM_FLAGS, *(("-DBLISS_PHASE_TRACE",) if trace else ())),
        cc="arm-none-eabi-gcc",
        ldflags=("-nostdlib", "-Wl,--gc-sections", "-T", str(ld), "-lgcc"),
    )


def ensure_cortexm_trace_built() -> pathlib.Path:
    """``ensure_cortexm_built(trace=True)``."""
    return ensure_cortexm_built(trace=True)


def start_cortexm_qemu(extra_args: Sequence[str] = (), elf: pathlib.Path | None = None
                       ) -> tuple[subprocess.Popen, str]:
    """Run the Cortex-M3 build (or ``elf``) under ``qemu-system-arm -M mps2-an385 -serial pty``;
    return ``(process, pty_path)``. ``extra_args`` go to QEMU (e.g. ``-icount``, ``-qmp``). Stop it
    with ``terminate()``."""
    elf = elf if elf is not None else ensure_cortexm_built()
    qemu = shutil.which("qemu-system-arm")
    if qemu is None:
        raise FirmwareBuildError("qemu-system-arm not found on PATH: install it "
                                 "(Debian/Ubuntu: apt-get install qemu-system-arm)")
    proc = subprocess.Popen(
        [qemu, "-M", QEMU_MACHINE, "-display", "none", "-monitor", "none", "-serial", "pty",
         "-kernel", str(elf), *extra_args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + PTY_LINE_TIMEOUT_S
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while b"(label serial0)" not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(timeout=left):
                break
            chunk = os.read(proc.stdout.fileno(), 256)
            if not chunk:
                break
            seen += chunk
    text = seen.decode("ascii", "replace")
    for word in text.split():
        if word.startswith("/dev/pts/") and "(label serial0)" in text:
            return proc, word
    proc.kill()
    proc.wait()
    raise FirmwareBuildError(f"qemu did not announce its serial pty (output {text.strip()!r})")
