"""``bliss board``: talk to an actuator board (protocol v1, docs/protocol.md) or run the emulated one.

    bliss board emulate [--link PATH]             start the C emulated board, print its port, run until Ctrl-C
    bliss board info   --port PORT                firmware/protocol version, boot id, axis configuration
    bliss board ping   --port PORT [--count N]    round-trip times
    bliss board status --port PORT                uptime, flags, per-axis position/target/state/faults
    bliss board move   --port PORT --axis A --target STEPS [--rate HZ] [--no-wait]
    bliss board stop   --port PORT [--axis A]

Every action but ``emulate`` needs ``--port PORT``: anything pyserial opens, such as /dev/ttyACM0, the
pty path ``emulate`` prints, or socket://host:port. A missing port, a board that does not answer or one
whose protocol version we do not speak gives one line ``bliss: error: ...`` and exit code 2.

This is the only module of ``bliss`` that imports ``hil``.
"""
from __future__ import annotations

import signal
import sys
import time

from bliss.cli import UsageError
from bliss.protocol import messages as m
from hil.emulated import EmulatedBoard  # bliss.cli is the one place bliss imports hil (layer contract)

#: Axis names for printing (docs/protocol.md section 2).
AXIS_NAMES = {0: "payload X", 1: "payload Y", 2: "roll vane"}
#: Extra wait allowed beyond the nominal travel time of a move, s (our choice: load, scheduling).
MOVE_MARGIN_S = 2.0


def register(subparsers) -> None:
    import argparse

    p = subparsers.add_parser("board", help="actuator board: info/ping/status/move/stop, or run the emulator",
                              description="\n\n".join(__doc__.split("\n\n")[:3]).replace("``", ""),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="board_command", metavar="ACTION")

    e = sub.add_parser("emulate", help="start the emulated board (C firmware on a pty); Ctrl-C stops it")
    e.add_argument("--link", metavar="PATH",
                   help="also publish the pty under this symlink (stable path across restarts)")
    e.add_argument("--seed", metavar="N",
                   help="random seed of the emulator (missed steps, boot id)")
    e.set_defaults(func=_cmd_emulate)

    def board_cmd(name, help_, func):
        c = sub.add_parser(name, help=help_)
        c.add_argument("--port", metavar="PORT", required=True,
                       help="serial port: /dev/ttyACM0, /dev/pts/N, socket://host:port")
        c.add_argument("--log", metavar="FILE", help="append every frame sent/received to FILE (hex + decoded)")
        c.add_argument("--timeout-ms", metavar="MS", default=str(int(m.COMMAND_TIMEOUT_S * 1000)),
                       help=f"reply timeout before a retry; default {int(m.COMMAND_TIMEOUT_S * 1000)} ms")
        c.set_defaults(func=func)
        return c

    board_cmd("info", "firmware and protocol version, boot id, axis configuration", _cmd_info)
    c = board_cmd("ping", "measure round-trip times", _cmd_ping)
    c.add_argument("--count", metavar="N", default="4",
                   help="number of pings; default 4")
    c.add_argument("--size", metavar="BYTES", default="8",
                   help=f"payload bytes, 0-{m.Ping.MAX_DATA}; default 8")
    board_cmd("status", "uptime, flags and per-axis position/target/state/faults", _cmd_status)
    c = board_cmd("move", "drive an axis to a target position (waits, with progress, unless --no-wait)",
                  _cmd_move)
    c.add_argument("--axis", metavar="A", required=True,
                   help="0 payload X, 1 payload Y, 2 roll vane")
    c.add_argument("--target", metavar="STEPS", required=True,
                   help="target position in steps (1 step = about 3.5 um of shuttle travel)")
    c.add_argument("--rate", metavar="HZ", default="0",
                   help=f"drive rate in Hz, {m.RATE_MIN}-{m.RATE_MAX}; 0 (default) = the axis's drive_hz")
    c.add_argument("--no-wait", action="store_true",
                   help="return after the ACK; the board's 1 s watchdog then stops the move when no "
                        "heartbeats follow")
    c = board_cmd("stop", "stop driving (one axis or all)", _cmd_stop)
    c.add_argument("--axis", metavar="A", default=None,
                   help="axis to stop; default all")

    def no_action(args):
        p.print_help(sys.stderr)
        return 2
    p.set_defaults(func=no_action)


def _int(flag: str, text: str, lo: int, hi: int) -> int:
    try:
        v = int(str(text), 0)
    except ValueError:
        raise UsageError(f"{flag} must be an integer, got {text!r}") from None
    if not lo <= v <= hi:
        raise UsageError(f"{flag} must be between {lo} and {hi}, got {v}")
    return v


def _check_file_path(flag: str, path: str) -> None:
    """UsageError unless ``path`` can be a file we create or append to: not empty, not a folder, in an
    existing writable folder (probed with a temporary file, removed at once, so nothing is left)."""
    import os
    import tempfile

    if not path.strip():
        raise UsageError(f"{flag} is empty; give a file path")
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path!r} is a folder; give a file path inside it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{flag} {path!r}: folder {folder!r} does not exist; create it or choose another path")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".bliss-write-probe-")
    except OSError as exc:
        raise UsageError(f"{flag} {path!r}: cannot write in {folder!r} ({exc.strerror}); choose another path") from None
    os.close(fd)
    os.unlink(probe)


def _validate(args) -> None:
    """Check every value before touching the port; replaces the strings by ints in place."""
    if getattr(args, "port", None) is not None and not args.port.strip():
        raise UsageError("--port is empty; give a serial port such as /dev/ttyACM0")
    if getattr(args, "log", None) is not None:
        _check_file_path("--log", args.log)
    if getattr(args, "link", None) is not None:
        import os

        _check_file_path("--link", args.link)
        if os.path.lexists(args.link) and not os.path.islink(args.link):
            raise UsageError(f"--link {args.link!r} exists and is not a symlink; choose another path")
    if hasattr(args, "timeout_ms"):
        args.timeout_ms = _int("--timeout-ms", args.timeout_ms, 10, 10_000)
    if hasattr(args, "count"):
        args.count = _int("--count", args.count, 1, 1_000_000)
        args.size = _int("--size", args.size, 0, m.Ping.MAX_DATA)
    if hasattr(args, "target"):
        args.axis = _int("--axis", args.axis, 0, 254)
        args.target = _int("--target", args.target, -2**31, 2**31 - 1)
        args.rate = _int("--rate", args.rate, 0, 65535)
        if args.rate != 0 and not m.RATE_MIN <= args.rate <= m.RATE_MAX:
            raise UsageError(f"--rate must be 0 (the axis's drive_hz) or {m.RATE_MIN}-{m.RATE_MAX} Hz "
                             f"(the inchworm drive range), got {args.rate}")
    elif hasattr(args, "axis"):
        args.axis = m.ALL_AXES if args.axis is None else _int("--axis", args.axis, 0, 254)
    if getattr(args, "seed", None) is not None:
        args.seed = _int("--seed", args.seed, 0, 2**32 - 1)


# ---- connecting ------------------------------------------------------------------------------------
def _open_board(args, heartbeat=True):
    _validate(args)
    from hil.driver import Board, BoardError  # lazy: pyserial, needed only when a board command runs

    board = Board(args.port, log_path=args.log, timeout=args.timeout_ms / 1000.0, heartbeat=heartbeat,
                  reconnect_timeout=0.0)
    try:
        board.connect()
    except BoardError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:  # e.g. the --log file vanished between the check and the open
        raise UsageError(f"cannot open the link to {args.port!r}: {exc}") from None
    return board


def _run(args, body, heartbeat=True) -> int:
    from hil.driver import BoardError  # lazy: pyserial, see _open_board

    board = _open_board(args, heartbeat)
    try:
        return int(body(board) or 0)
    except BoardError as exc:
        raise UsageError(str(exc)) from None
    finally:
        board.close()


# ---- actions -----------------------------------------------------------------------------------------
def _cmd_emulate(args) -> int:
    from firmware_host.build import FirmwareBuildError

    _validate(args)
    emu_args = ("--seed", str(args.seed)) if args.seed is not None else ()
    emu = EmulatedBoard(emu_args, stderr=None)  # its diagnostics go to our stderr
    try:
        emu.start()
    except (FirmwareBuildError, OSError) as exc:
        emu.close()
        raise UsageError(f"cannot start the emulated board: {str(exc).splitlines()[0]}") from None
    link = None
    try:
        port = emu.pty
        if args.link:
            import os
            link = args.link  # checked by _validate before the board started
            tmp = link + ".new"
            try:
                if os.path.lexists(tmp):
                    os.unlink(tmp)
                os.symlink(port, tmp)
                os.replace(tmp, link)
            except OSError as exc:
                link = None
                raise UsageError(f"--link {args.link!r}: cannot create the symlink ({exc.strerror})") from None
        print(f"emulated board on {port}" + (f" (also {link})" if link else ""), flush=True)
        print(f"try: bliss board status --port {link or port}    (Ctrl-C stops the board)", flush=True)
        signal.signal(signal.SIGTERM, _raise_interrupt)  # `kill` stops it as cleanly as Ctrl-C
        # Ctrl-C stops it even when it was started with SIGINT ignored (an ignored SIGINT is inherited across
        # exec, e.g. from a test runner's worker or a background job: the board then ran until killed)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            while emu.proc.poll() is None:
                time.sleep(0.2)
        except KeyboardInterrupt:
            print("stopping the emulated board", file=sys.stderr, flush=True)
            return 0
        print(f"bliss: error: the emulated board exited by itself (code {emu.proc.returncode})",
              file=sys.stderr, flush=True)
        return 1
    finally:
        if link:
            import os
            if os.path.islink(link):
                os.unlink(link)
        emu.close()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _cmd_info(args) -> int:
    def body(board):
        i = board.info
        print(f"port      {args.port}")
        print(f"firmware  {i.fw_version}")
        print(f"protocol  {i.proto}")
        print(f"boot_id   0x{i.boot_id:04X}")
        print(f"axes      {i.n_axes}")
        for k, a in enumerate(i.axes):
            print(f"  axis {k} ({AXIS_NAMES.get(k, '?')}): soft limits [{a.soft_min}, {a.soft_max}] steps, "
                  f"drive {a.drive_hz} Hz")
    return _run(args, body, heartbeat=False)


def _cmd_ping(args) -> int:
    def body(board):
        data = bytes(range(args.size))
        rtts = []
        for k in range(args.count):
            rtt = board.ping(data)
            rtts.append(rtt)
            print(f"{len(data)} bytes from {args.port}: seq={k} time={rtt * 1e3:.2f} ms", flush=True)
        rtts.sort()
        print(f"{len(rtts)} pings: min {rtts[0] * 1e3:.2f} ms, median {rtts[len(rtts) // 2] * 1e3:.2f} ms, "
              f"max {rtts[-1] * 1e3:.2f} ms; retries {board.retries_used}")
    return _run(args, body)


def _cmd_status(args) -> int:
    def body(board):
        s = board.status()
        flags = [f.name for f in m.BoardFlag if s.board_flags & f] or ["-"]
        print(f"uptime    {s.uptime_ms / 1000:.3f} s")
        print(f"boot_id   0x{s.boot_id:04X}")
        print(f"rx_bad    {s.rx_bad}")
        print(f"flags     {','.join(flags)}")
        print(f"{'axis':<16}{'position':>10}{'target':>10}  {'state':<24}faults")
        for k, a in enumerate(s.axes):
            print(f"{k} {AXIS_NAMES.get(k, '?'):<14}{a.position:>10}{a.target:>10}  "
                  f"{','.join(a.state_names()) or '-':<24}{','.join(a.fault_names()) or '-'}")
    return _run(args, body, heartbeat=False)


def _cmd_move(args) -> int:
    from hil.driver import BoardNack  # lazy: pyserial, see _open_board

    def body(board):
        info = board.info
        if args.axis >= info.n_axes:
            raise UsageError(f"--axis {args.axis} does not exist: this board has axes 0-{info.n_axes - 1}")
        cfg = info.axes[args.axis]
        if not cfg.soft_min <= args.target <= cfg.soft_max:
            raise UsageError(f"--target {args.target} is outside the soft limits [{cfg.soft_min}, "
                             f"{cfg.soft_max}] of axis {args.axis}; choose a target inside them")
        start = board.status().axes[args.axis].position
        try:
            board.move(args.axis, args.target, args.rate)
        except BoardNack as exc:
            raise UsageError(f"{exc} (axis {args.axis}, target {args.target}, rate {args.rate} Hz)") from None
        rate = args.rate or cfg.drive_hz
        if args.no_wait:
            print(f"axis {args.axis} moving {start} -> {args.target} at {rate} Hz (not waiting)")
            return 0
        from tqdm import tqdm

        total = abs(args.target - start)
        deadline = time.monotonic() + total / rate + MOVE_MARGIN_S
        with tqdm(total=total, unit="step", desc=f"axis {args.axis}", file=sys.stderr,
                  disable=total == 0) as bar, _stop_on_interrupt(board, args.axis):
            while True:
                a = board.status().axes[args.axis]
                bar.update(min(total, abs(a.position - start)) - bar.n)
                if not a.moving:
                    break
                if time.monotonic() > deadline:
                    board.stop(args.axis)
                    raise UsageError(f"axis {args.axis} did not reach {args.target} in time (at {a.position});"
                                     " stopped it; check `bliss board status`")
                time.sleep(0.05)
        faults = ",".join(a.fault_names())
        print(f"axis {args.axis}: position {a.position} (target {args.target})"
              + (f", faults {faults}" if faults else ""))
        return 0 if a.position == args.target and not a.faults else 1
    return _run(args, body)


class _stop_on_interrupt:
    """Ctrl-C while waiting for a move: STOP the axis before leaving (else it runs on until the
    board's 1 s watchdog trips)."""

    def __init__(self, board, axis):
        self.board, self.axis = board, axis

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is KeyboardInterrupt:
            try:
                self.board.stop(self.axis)
                print(f"stopped axis {self.axis}", file=sys.stderr, flush=True)
            except Exception:  # noqa: BLE001 - best effort; the watchdog stops it anyway
                pass
        return False


def _cmd_stop(args) -> int:
    def body(board):
        n_axes = board.info.n_axes
        if args.axis != m.ALL_AXES and args.axis >= n_axes:  # checked here, as `move` does
            raise UsageError(f"--axis {args.axis} does not exist: this board has axes 0-{n_axes - 1} "
                             f"(leave --axis out to stop all)")
        board.stop(args.axis)
        which = "all axes" if args.axis == m.ALL_AXES else f"axis {args.axis}"
        print(f"stopped {which}")
    return _run(args, body, heartbeat=False)
