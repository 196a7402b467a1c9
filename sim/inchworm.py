"""Inchworm axes as the attitude plant sees them: a fast kinematic model of the actuator board.

The emulated board (``firmware_host``: the C firmware's sequencer in ``src/axis.c`` driving the simulated
mechanism in ``host/inchworm_sim.c``) is the exact model, phase by phase. This one is for long runs: per
axis an integer shuttle position in whole steps, moved toward a target at the drive rate (one step per
drive cycle), with the same soft limits, rate range, stall rule and fault injections (missed cycles,
partial stall, stuck) as the emulator.

One source for the numbers: they are read at import from the C headers the firmware is built from
(``firmware_host/src/proto.h`` and ``firmware_host/host/inchworm_sim.h``, shipped as package data), so a
change there changes this model too; ``tests/test_attitude_inchworm.py`` checks the parse.

Open loop, as the firmware runs without an encoder: the board counts commanded drive cycles as steps
(``reported``), while the shuttle moves only on cycles that travel (``true``); a missed cycle makes the
two differ, and the payload's true position is what turns the sail.
"""
from __future__ import annotations

import math
import re
from importlib import resources

import numpy as np
from numba import njit

_HEADERS = ("src/proto.h", "host/inchworm_sim.h")
_NAMES = ("RATE_MIN", "RATE_MAX", "DEFAULT_DRIVE_HZ", "HARD_LIMIT", "DEFAULT_SOFT_LIMIT", "STALL_CYCLES",
          "SIM_UM_PER_STEP")


def parse_c_defines(text: str) -> dict[str, float]:
    """Numeric ``#define NAME value`` lines of a C header (``u`` suffixes dropped) -> {NAME: value}."""
    out = {}
    for m in re.finditer(r"^\s*#define\s+([A-Z_][A-Z0-9_]*)\s+([0-9]+(?:\.[0-9]+)?)u?\b", text, re.M):
        out[m.group(1)] = float(m.group(2))
    return out


def _read_firmware_parameters() -> dict[str, float]:
    root = resources.files("firmware_host")
    found: dict[str, float] = {}
    for rel in _HEADERS:
        found.update(parse_c_defines(root.joinpath(rel).read_text(encoding="utf-8")))
    missing = [n for n in _NAMES if n not in found]
    if missing:
        raise ImportError(f"firmware headers {_HEADERS} lack {missing}: the inchworm model's parameters "
                          "come from there (reinstall the package or restore the headers)")
    return {n: found[n] for n in _NAMES}


FIRMWARE_PARAMETERS = _read_firmware_parameters()
#: Drive-rate range [Hz] (proto.h; 0.1-20 kHz, Rauf et al., JMEMS 31(1), 2022).
RATE_MIN_HZ = FIRMWARE_PARAMETERS["RATE_MIN"]
RATE_MAX_HZ = FIRMWARE_PARAMETERS["RATE_MAX"]
#: Default drive rate [Hz] (proto.h).
DEFAULT_DRIVE_HZ = FIRMWARE_PARAMETERS["DEFAULT_DRIVE_HZ"]
#: Hard travel limit [steps] (proto.h: 10 mm / 3.5 um).
HARD_LIMIT = int(FIRMWARE_PARAMETERS["HARD_LIMIT"])
#: Default soft limit [steps] (proto.h), +- about the centre.
DEFAULT_SOFT_LIMIT = int(FIRMWARE_PARAMETERS["DEFAULT_SOFT_LIMIT"])
#: Commanded cycles without travel before the board flags STALL (proto.h; needs an encoder to detect).
STALL_CYCLES = int(FIRMWARE_PARAMETERS["STALL_CYCLES"])
#: Shuttle travel per drive cycle [m] (inchworm_sim.h SIM_UM_PER_STEP, Rauf et al. 2022).
STEP_M = FIRMWARE_PARAMETERS["SIM_UM_PER_STEP"] * 1e-6

#: Fault codes the plant returns for a refused command (the board's NACK codes, proto.h ERR_*).
OK, ERR_SOFT_LIMIT, ERR_BAD_RATE = 0, 5, 6

# Per-axis state array layout (float64, one row per axis):
A_TRUE, A_REPORTED, A_TARGET, A_RATE, A_PHASE, A_MISS_P, A_STALL_PCT, A_STALL_ACC, A_STUCK, A_STEPS_DONE = range(10)
N_AXIS_FIELDS = 10


@njit(cache=True)
def advance_axes(state, dt, u_rand, start):
    """Run every axis for ``dt`` seconds at its rate toward its target (in place).

    ``u_rand``: uniform random numbers in [0, 1) for the missed-cycle draws, read from index ``start``
    on (cyclically). Returns the index after the last one used. A cycle is decided travelling or not as in
    ``inchworm_sim.c``: missed with probability ``miss_p``, then the stall accumulator lets
    ``stall_pct`` % of cycles through; a stuck axis never travels. Each commanded cycle counts one
    reported step (open loop) whether or not the shuttle moved.
    """
    used = start
    nr = u_rand.shape[0]
    for i in range(state.shape[0]):
        rep = state[i, A_REPORTED]
        tgt = state[i, A_TARGET]
        if rep == tgt:
            state[i, A_PHASE] = 0.0
            continue
        due = state[i, A_PHASE] + state[i, A_RATE] * dt
        n = int(math.floor(due))
        state[i, A_PHASE] = due - n
        dist = abs(tgt - rep)
        if n >= dist:
            n = int(dist)
            state[i, A_PHASE] = 0.0
        d = 1.0 if tgt > rep else -1.0
        for _ in range(n):
            travels = state[i, A_STUCK] == 0.0
            if travels and state[i, A_MISS_P] > 0.0 and nr > 0:
                if u_rand[used % nr] < state[i, A_MISS_P]:
                    travels = False
                used += 1
            if travels:
                state[i, A_STALL_ACC] += state[i, A_STALL_PCT]
                if state[i, A_STALL_ACC] >= 100.0:
                    state[i, A_STALL_ACC] -= 100.0
                else:
                    travels = False
            if travels:
                state[i, A_TRUE] += d
            state[i, A_REPORTED] += d
            state[i, A_STEPS_DONE] += 1.0
    return used


class InchwormAxes:
    """Three inchworm axes (0, 1: payload x/y; 2: vane) with the board's command rules.

    ``command(i, target, rate_hz)`` checks the target against the soft limits and the rate against the
    firmware's range (returning the board's error code, 0 if accepted); ``advance(dt)`` runs them.
    """

    def __init__(self, n_axes: int = 3, soft_limit: int = DEFAULT_SOFT_LIMIT, seed: int = 0):
        if not (0 < soft_limit <= HARD_LIMIT):
            raise ValueError(f"soft_limit must be in 1..{HARD_LIMIT} steps, got {soft_limit!r}")
        self.state = np.zeros((n_axes, N_AXIS_FIELDS))
        self.state[:, A_RATE] = DEFAULT_DRIVE_HZ
        self.state[:, A_STALL_PCT] = 100.0
        self.soft_limit = int(soft_limit)
        self._rng = np.random.default_rng(seed)

    def command(self, axis: int, target: int, rate_hz: float = DEFAULT_DRIVE_HZ) -> int:
        if abs(int(target)) > self.soft_limit:
            return ERR_SOFT_LIMIT
        if not (RATE_MIN_HZ <= rate_hz <= RATE_MAX_HZ):
            return ERR_BAD_RATE
        self.state[axis, A_TARGET] = float(int(target))
        self.state[axis, A_RATE] = float(rate_hz)
        return OK

    def inject(self, axis: int, miss_prob: float = 0.0, stall_pct: float = 100.0, stuck: bool = False):
        """As the emulator's INJECT MISS / STALL / STUCK on one axis."""
        if not (0.0 <= miss_prob <= 1.0 and 0.0 <= stall_pct <= 100.0):
            raise ValueError("miss_prob must be in [0, 1] and stall_pct in [0, 100]")
        self.state[axis, A_MISS_P] = miss_prob
        self.state[axis, A_STALL_PCT] = stall_pct
        self.state[axis, A_STUCK] = 1.0 if stuck else 0.0

    def advance(self, dt: float) -> None:
        n = int(np.abs(self.state[:, A_TARGET] - self.state[:, A_REPORTED]).sum()) + 1
        advance_axes(self.state, float(dt), self._rng.random(n), 0)

    @property
    def true_steps(self) -> np.ndarray:
        return self.state[:, A_TRUE].astype(np.int64)

    @property
    def reported_steps(self) -> np.ndarray:
        return self.state[:, A_REPORTED].astype(np.int64)

    @property
    def moving(self) -> np.ndarray:
        return self.state[:, A_REPORTED] != self.state[:, A_TARGET]

    @property
    def steps_done(self) -> np.ndarray:
        return self.state[:, A_STEPS_DONE].astype(np.int64)
