"""A small pure-Python actuator board for tests and the link benchmark, served on a pseudo-terminal.

It speaks protocol version 1 with the host's own codec (``bliss.protocol``), so it checks the host
against the host's reading of docs/protocol.md, not against the C firmware: the acceptance tests run
against the C emulator (``firmware_host``). Behaviour kept: HELLO/PING/MOVE/STOP/HOLD/STATUS/CONFIG/
HEARTBEAT/RESET/CLEAR_FAULTS/INJECT with the documented NACKs, duplicate-seq handling, time-based
stepping at the commanded rate, STUCK/STALL/RESET/MISS injection, the 1 s watchdog, EVENT BOOT/FAULT/
WATCHDOG/MOVE_DONE.

    fake = FakeBoard(); port = fake.start()   # port is a /dev/pts/N path
    ...; fake.stop()
"""
from __future__ import annotations

import os
import random
import select
import threading
import time
import tty
from dataclasses import dataclass, field

from bliss.protocol.framing import Frame, FrameDecoder
from bliss.protocol import messages as m

#: Board loop period, s (our choice: fine enough for 250 ms command timeouts and 1 s watchdog tests).
_TICK_S = 0.001


@dataclass
class _Axis:
    soft_min: int = -m.DEFAULT_SOFT_LIMIT
    soft_max: int = m.DEFAULT_SOFT_LIMIT
    drive_hz: int = m.DEFAULT_DRIVE_HZ
    position: int = 0
    target: int = 0
    rate: int = 0
    state: int = m.AxisState.ENABLED
    faults: int = 0
    stuck: bool = False
    stall_pct: int = 100
    miss_p: float = 0.0
    phase: float = 0.0
    idle_cycles: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def moving(self) -> bool:
        return bool(self.state & m.AxisState.MOVING)


class FakeBoard:
    """Emulated board on a pty. ``proto`` lets a test pretend to be a board of another version;
    ``mute`` makes it swallow everything (a board that does not answer)."""

    def __init__(self, n_axes: int = m.N_AXES, proto: int = m.PROTO_VERSION, mute: bool = False,
                 fw=(0, 9, 0), drop_first: int = 0, reply_version: int = m.PROTO_VERSION):
        self.n_axes = n_axes
        self.proto = proto
        self.mute = mute
        self.drop_first = drop_first  # ignore this many valid frames (lost on the wire)
        self.reply_version = reply_version
        self.frames_seen = 0
        self.fw = fw
        self.rx_bad = 0
        self.port: str | None = None
        self._master = self._slave = None
        self._thread = None
        self._stop = threading.Event()
        self._boot()

    # ---- lifecycle -------------------------------------------------------------------------------
    def _boot(self) -> None:
        self.boot_id = random.randrange(0x10000)
        self.t0 = time.monotonic()
        self.axes = [_Axis() for _ in range(self.n_axes)]
        self.flags = m.BoardFlag.EMULATED
        self.last_seq: int | None = None
        self.last_reply: bytes | None = None
        self.last_rx = time.monotonic()
        self.event_seq = 0
        self.decoder = FrameDecoder()
        self._boot_pending = True

    def start(self) -> str:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="fakeboard")
        self._thread.start()
        return self.port

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None

    def restart(self) -> str:
        """Power-cycle: the pty goes away, a new one (new path) comes up, the board boots afresh."""
        self.stop()
        self._boot()
        return self.start()

    # ---- I/O ---------------------------------------------------------------------------------------
    def _write(self, wire: bytes) -> None:
        try:
            os.write(self._master, wire)
        except OSError:
            pass

    def _send(self, type_: int, seq: int, msg) -> bytes:
        wire = Frame(self.reply_version, int(type_), seq, msg.to_payload()).encode()
        self._write(wire)
        return wire

    def _event(self, kind: int, axis: int, data: int) -> None:
        self.event_seq = (self.event_seq + 1) & 0xFFFF
        self._send(m.MsgType.EVENT, self.event_seq, m.Event(kind, axis, data & 0xFFFF))

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.is_set():
            if self._boot_pending:
                self._boot_pending = False
                self._event(m.EventKind.BOOT, 0, self.boot_id)
            r, _, _ = select.select([self._master], [], [], _TICK_S)
            if r:
                try:
                    data = os.read(self._master, 4096)
                except OSError:
                    data = b""
                if data and not self.mute:
                    before = self.decoder.rejected
                    for frame in self.decoder.feed(data):
                        self._handle(frame)
                    self.rx_bad = (self.rx_bad + self.decoder.rejected - before) & 0xFFFF
            now = time.monotonic()
            self._tick(now - last)
            last = now

    # ---- command handling ---------------------------------------------------------------------------
    def _handle(self, frame: Frame) -> None:
        self.frames_seen += 1
        if self.frames_seen <= self.drop_first:
            return
        if frame.version != m.PROTO_VERSION:
            self._send(m.MsgType.NACK, frame.seq, m.Nack(frame.type, m.ErrorCode.BAD_VERSION))
            return
        if frame.type not in m.COMMAND_TYPES:
            self._send(m.MsgType.NACK, frame.seq, m.Nack(frame.type, m.ErrorCode.UNKNOWN_TYPE))
            return
        self.last_rx = time.monotonic()
        if frame.seq == self.last_seq and self.last_reply is not None:
            self._write(self.last_reply)
            return
        try:
            msg = m.decode_frame(frame)
        except m.MessageError:
            reply = m.Nack(frame.type, m.ErrorCode.BAD_LENGTH)
        else:
            reply = self._execute(msg)
            if reply is None:  # INJECT RESET: the board restarted, no reply is guaranteed
                return
        self.last_seq = frame.seq
        self.last_reply = self._send(reply.TYPE, frame.seq, reply)
        if isinstance(reply, m.StatusInfo):  # only STATUS_INFO carries the flags (protocol.md sec. 2)
            self.flags &= ~m.BoardFlag.WATCHDOG_TRIPPED
        if isinstance(msg, m.Reset):
            self._boot()

    def _axis_list(self, axis: int, allow_all: bool):
        if allow_all and axis == m.ALL_AXES:
            return self.axes
        if axis >= self.n_axes:
            return None
        return [self.axes[axis]]

    def _execute(self, msg):
        t = msg.TYPE
        ack = m.Ack(t)

        def nack(code):
            return m.Nack(t, code)

        if t == m.MsgType.HELLO:
            return m.HelloInfo(*self.fw, self.proto, self.n_axes, self.boot_id,
                               tuple(m.AxisConfig(a.soft_min, a.soft_max, a.drive_hz) for a in self.axes))
        if t == m.MsgType.PING:
            return m.Pong(msg.data)
        if t == m.MsgType.STATUS:
            return self.status_info()
        if t in (m.MsgType.HEARTBEAT, m.MsgType.RESET):
            return ack
        if t == m.MsgType.MOVE:
            if msg.axis >= self.n_axes:
                return nack(m.ErrorCode.BAD_AXIS)
            ax = self.axes[msg.axis]
            rate = msg.rate or ax.drive_hz
            if not ax.soft_min <= msg.target <= ax.soft_max:
                return nack(m.ErrorCode.SOFT_LIMIT)
            if not m.RATE_MIN <= rate <= m.RATE_MAX:
                return nack(m.ErrorCode.BAD_RATE)
            if ax.faults:
                return nack(m.ErrorCode.AXIS_FAULT)
            ax.target, ax.rate, ax.idle_cycles = msg.target, rate, 0
            ax.state = m.AxisState.ENABLED | (m.AxisState.MOVING if ax.target != ax.position else 0)
            if ax.target == ax.position:
                self._event(m.EventKind.MOVE_DONE, msg.axis, ax.position)
            return ack
        if t in (m.MsgType.STOP, m.MsgType.HOLD):
            axes = self._axis_list(msg.axis, True)
            if axes is None:
                return nack(m.ErrorCode.BAD_AXIS)
            for ax in axes:
                ax.target = ax.position
                ax.state = m.AxisState.ENABLED | (m.AxisState.HOLDING if t == m.MsgType.HOLD else 0)
            return ack
        if t == m.MsgType.CONFIG:
            if msg.axis >= self.n_axes:
                return nack(m.ErrorCode.BAD_AXIS)
            ax = self.axes[msg.axis]
            if ax.moving:
                return nack(m.ErrorCode.BUSY)
            if not m.RATE_MIN <= msg.drive_hz <= m.RATE_MAX:
                return nack(m.ErrorCode.BAD_RATE)
            if msg.soft_min >= msg.soft_max:
                return nack(m.ErrorCode.BAD_ARG)
            if msg.soft_min < -m.HARD_LIMIT or msg.soft_max > m.HARD_LIMIT:
                return nack(m.ErrorCode.SOFT_LIMIT)
            ax.drive_hz, ax.soft_min, ax.soft_max = msg.drive_hz, msg.soft_min, msg.soft_max
            return ack
        if t == m.MsgType.CLEAR_FAULTS:
            axes = self._axis_list(msg.axis, True)
            if axes is None:
                return nack(m.ErrorCode.BAD_AXIS)
            for ax in axes:
                ax.faults = 0
            return ack
        if t == m.MsgType.INJECT:
            if msg.kind == m.InjectKind.RESET:
                self._boot()
                return None
            axes = self._axis_list(msg.axis, True)
            if axes is None:
                return nack(m.ErrorCode.BAD_AXIS)
            for ax in axes:
                if msg.kind == m.InjectKind.CLEAR:
                    ax.stuck, ax.stall_pct, ax.miss_p = False, 100, 0.0
                elif msg.kind == m.InjectKind.STUCK:
                    ax.stuck = True
                elif msg.kind == m.InjectKind.STALL:
                    ax.stall_pct = msg.param
                elif msg.kind == m.InjectKind.MISS:
                    ax.miss_p = msg.param / 65535
                else:
                    return nack(m.ErrorCode.BAD_ARG)
            return ack
        return nack(m.ErrorCode.UNKNOWN_TYPE)  # pragma: no cover

    def status_info(self) -> m.StatusInfo:
        uptime = int((time.monotonic() - self.t0) * 1000) & 0xFFFFFFFF
        return m.StatusInfo(uptime, self.boot_id, self.rx_bad, int(self.flags), self.n_axes,
                            tuple(m.AxisStatus(a.position, a.target, int(a.state), int(a.faults))
                                  for a in self.axes))

    # ---- physics -------------------------------------------------------------------------------------
    def _tick(self, dt: float) -> None:
        now = time.monotonic()
        if now - self.last_rx > m.WATCHDOG_TIMEOUT_S and any(a.moving for a in self.axes):
            for k, ax in enumerate(self.axes):
                if ax.moving:
                    ax.target = ax.position
                    ax.state = m.AxisState.ENABLED | m.AxisState.HOLDING
                    ax.faults |= m.AxisFault.WATCHDOG
            self.flags |= m.BoardFlag.WATCHDOG_TRIPPED
            self.last_reply = None  # a stored reply may show motion that no longer exists
            self._event(m.EventKind.WATCHDOG, m.ALL_AXES, 0)
        for k, ax in enumerate(self.axes):
            if not ax.moving:
                continue
            ax.phase += dt * ax.rate
            cycles = int(ax.phase)
            ax.phase -= cycles
            step = 1 if ax.target > ax.position else -1
            for _ in range(cycles):
                moved = not ax.stuck and random.random() * 100 < ax.stall_pct \
                    and random.random() >= ax.miss_p
                if moved:
                    ax.position += step
                    ax.idle_cycles = 0
                else:
                    ax.idle_cycles += 1
                    if ax.idle_cycles >= m.STALL_CYCLES:
                        ax.faults |= m.AxisFault.STUCK if ax.stuck else m.AxisFault.STALL
                        ax.target = ax.position
                        ax.state = m.AxisState.ENABLED
                        self._event(m.EventKind.FAULT, k, ax.faults)
                        break
                if ax.position == ax.target:
                    ax.state = m.AxisState.ENABLED
                    self._event(m.EventKind.MOVE_DONE, k, ax.position)
                    break


class CorruptingProxy:
    """A pty between the host and a board's port that corrupts whole frames in both directions.

    Each frame (bytes up to a 0x00) is, with probability ``p``, altered by flipping one random bit of
    one of its non-delimiter bytes. Seeded, with one generator per direction, so the pattern of each
    direction does not depend on how the two directions interleave in time and a failing run can be
    replayed. ``corrupted`` counts altered frames per direction ("to_board", "to_host").
    """

    def __init__(self, board_port: str, p: float, seed: int = 1):
        self.board_port = board_port
        self.p = p
        self.rngs = {"to_board": random.Random(seed), "to_host": random.Random(seed + 1_000_003)}
        self.corrupted = {"to_board": 0, "to_host": 0}
        self._stop = threading.Event()
        self._thread = None

    def start(self) -> str:
        self._board_fd = os.open(self.board_port, os.O_RDWR | os.O_NOCTTY)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._run, daemon=True, name="corrupting-proxy")
        self._thread.start()
        return self.port

    def _mangle(self, buf: bytearray, key: str) -> bytes:
        out = bytearray()
        while True:
            end = buf.find(0)
            if end < 0:
                return bytes(out)
            frame = bytearray(buf[:end + 1])
            del buf[:end + 1]
            rng = self.rngs[key]
            if end > 0 and rng.random() < self.p:
                i = rng.randrange(end)
                frame[i] ^= 1 << rng.randrange(8)
                self.corrupted[key] += 1
            out += frame

    def _run(self) -> None:
        bufs = {self._master: bytearray(), self._board_fd: bytearray()}
        peer = {self._master: self._board_fd, self._board_fd: self._master}
        key = {self._master: "to_board", self._board_fd: "to_host"}
        while not self._stop.is_set():
            r, _, _ = select.select(list(bufs), [], [], 0.01)
            for fd in r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return
                bufs[fd] += data
                out = self._mangle(bufs[fd], key[fd])
                if out:
                    try:
                        os.write(peer[fd], out)
                    except OSError:
                        return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave, self._board_fd):
            try:
                os.close(fd)
            except OSError:
                pass
