"""The same firmware cross-built for Cortex-M3 and run under QEMU (mps2-an385, UART0 on a pty),
driven by the same host-side test client as the emulated board. Skips when arm-none-eabi-gcc or
qemu-system-arm is missing. This is the flight build: no position sensor (open-loop step
counting), no EMULATED flag, INJECT refused."""
from __future__ import annotations

import shutil
import struct
import time

import pytest

from firmware_host import build
from firmware_host.testlink import (ACK, EVT_BOOT, EVT_MOVE_DONE, HELLO_INFO, INJECT, MOVE,
                                    NACK, PING, PONG, RESET, Link, encode)

pytestmark = [
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                       reason="arm-none-eabi-gcc not installed (apt-get install gcc-arm-none-eabi)"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None,
                       reason="qemu-system-arm not installed (apt-get install qemu-system-arm)"),
]


@pytest.fixture
def qemu_board():
    proc, port = build.start_cortexm_qemu()
    link = Link(port)
    yield link
    link.close()
    proc.terminate()
    proc.wait(timeout=10)


def test_cortexm_build_fits_a_small_microcontroller():
    elf = build.ensure_cortexm_built()
    data = elf.read_bytes()
    assert data[:4] == b"\x7fELF" and data[18] == 40  # e_machine 40 = EM_ARM
    assert elf.stat().st_size < 200_000


def _hello_when_up(link, wait_s=20.0):
    reply = link.hello_until_answered(wait_s)
    if reply is None:
        pytest.fail(f"the QEMU board did not answer HELLO within {wait_s:.0f} s")
    return reply


def test_cortexm_board_speaks_the_protocol_under_qemu(qemu_board):
    link = qemu_board
    t, p = _hello_when_up(link)
    assert t == HELLO_INFO and p[3:5] == bytes([1, 3])
    boot_id = struct.unpack("<H", p[5:7])[0]
    assert link.command(PING, b"\x00qemu\x00") == (PONG, b"\x00qemu\x00")
    assert link.command(INJECT, struct.pack("<BBH", 1, 0, 0)) == (NACK, bytes([INJECT, 2]))
    st = link.status()
    assert st["flags"] == 0 and st["boot_id"] == boot_id
    assert link.command(MOVE, struct.pack("<BiH", 0, 200, 1000))[0] == ACK
    t0 = time.monotonic()
    assert link.wait_event(EVT_MOVE_DONE, timeout=3.0) == (EVT_MOVE_DONE, 0, 200)
    assert time.monotonic() - t0 >= 0.19, "200 steps at 1000 Hz take 0.2 s"
    link.write(b"\x02\x01\x02\x00" + encode(PING, 999, b"after"))  # a bad frame, then a good one
    assert link.read_reply(timeout=2.0) == (PONG, 999, b"after")
    assert link.status()["rx_bad"] == 1
    link.events.clear()  # forget the power-on EVENT BOOT if it arrived
    assert link.command(RESET) == (ACK, bytes([RESET]))
    assert link.wait_event(EVT_BOOT, timeout=3.0)[2] == (boot_id + 1) & 0xFFFF, \
        "boot counter kept in non-initialised RAM across the reset"
