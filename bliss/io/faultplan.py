"""Scripted fault plans for the bench: a TOML file (read with the stdlib ``tomllib``) listing faults to
inject at given times of a run (format in docs/bench.md)::

    description = "reset mid-slew, then a stalled payload axis"
    [[fault]]
    at_s = 120.0
    kind = "board_reset"
    [[fault]]
    at_s = 300.0
    kind = "axis_stall"
    axis = 1
    duration_s = 5.0

:func:`load_fault_plan` validates everything (unknown keys are errors that name the key and the entry)
and returns a :class:`FaultPlan`. Board-side faults are applied by ``hil.faults``; ``sensor_dropout``
is for the loop (``FaultPlan.active``).
"""
from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bliss.io.toml_file import read_toml

__all__ = ["FaultEntry", "FaultPlan", "FaultPlanError", "KINDS", "load_fault_plan", "parse_fault_plan",
           "parse_inject"]

#: Fault kinds and the keys each takes besides ``at_s`` and ``kind`` (required ones marked True).
KINDS: dict[str, dict[str, bool]] = {
    "board_reset": {},                                         # brown-out: INJECT RESET
    "axis_stall": {"axis": True, "duration_s": False, "percent": False},  # 0 % = stuck (INJECT STUCK)
    "link_drop": {"duration_s": True},                         # the serial port goes away and comes back
    "garbage": {"bytes": False},                               # noise on the line toward the board
    "sensor_dropout": {"duration_s": True},                    # attitude sensors give nothing (the loop)
}
#: Axes of a BLISS board (bliss.fsw.messages.N_AXES): 0, 1 payload, 2 roll vane.
_N_AXES = 3
_TOP_KEYS = {"description", "fault"}


class FaultPlanError(ValueError):
    """The fault plan is not valid; the message names the file, the entry and the key."""


@dataclass(frozen=True)
class FaultEntry:
    at_s: float                 # when, s after the run's start
    kind: str
    axis: int | None = None
    duration_s: float | None = None   # None: until the end of the run (axis_stall) or instantaneous
    percent: int = 0            # axis_stall: speed left under load, % of the commanded rate (0 = stuck)
    bytes: int = 64             # garbage: how many bytes

    @property
    def end_s(self) -> float | None:
        return None if self.duration_s is None else self.at_s + self.duration_s


@dataclass(frozen=True)
class FaultPlan:
    entries: tuple[FaultEntry, ...]
    description: str = ""

    def active(self, kind: str, t: float) -> list[FaultEntry]:
        """Entries of ``kind`` in force at ``t`` [s]."""
        return [e for e in self.entries if e.kind == kind and e.at_s <= t
                and (e.end_s is None or t < e.end_s)]


def _number(where: str, key: str, v, *, integer: bool = False, lo=None, hi=None, lo_open=False):
    ok = isinstance(v, int) if integer else isinstance(v, (int, float))
    if isinstance(v, bool) or not ok or (not integer and not math.isfinite(v)):
        raise FaultPlanError(f"{where}: {key} must be {'an integer' if integer else 'a finite number'}, "
                             f"got {v!r}")
    if lo is not None and (v <= lo if lo_open else v < lo) or hi is not None and v > hi:
        rng = f"{'(' if lo_open else '['}{lo}, {hi if hi is not None else 'inf'}{']' if hi is not None else ')'}"
        raise FaultPlanError(f"{where}: {key} = {v!r} is outside {rng}")
    return v


def parse_fault_plan(data: dict, source: str = "fault plan") -> FaultPlan:
    """Validate a parsed TOML document (see the module doc)."""
    for key in data:
        if key not in _TOP_KEYS:
            raise FaultPlanError(f"{source}: unknown top-level key {key!r}; allowed: {sorted(_TOP_KEYS)}")
    desc = data.get("description", "")
    if not isinstance(desc, str):
        raise FaultPlanError(f"{source}: description must be a string")
    faults = data.get("fault", [])
    if not isinstance(faults, list):
        raise FaultPlanError(f"{source}: 'fault' must be an array of tables ([[fault]])")
    entries = []
    for k, f in enumerate(faults):
        where = f"{source}: fault #{k + 1}"
        if not isinstance(f, dict):
            raise FaultPlanError(f"{where}: must be a table")
        kind = f.get("kind")
        if kind not in KINDS:
            raise FaultPlanError(f"{where}: kind must be one of {sorted(KINDS)}, got {kind!r}")
        where += f" ({kind})"
        allowed = KINDS[kind]
        for key in f:
            if key not in ("at_s", "kind") and key not in allowed:
                raise FaultPlanError(f"{where}: unknown key {key!r}; {kind} takes "
                                     f"{sorted(['at_s', 'kind', *allowed])}")
        for key in ["at_s", *(k2 for k2, req in allowed.items() if req)]:
            if key not in f:
                raise FaultPlanError(f"{where}: missing key {key!r}")
        kw = {"at_s": float(_number(where, "at_s", f["at_s"], lo=0.0)), "kind": kind}
        if "axis" in f:
            kw["axis"] = _number(where, "axis", f["axis"], integer=True, lo=0, hi=_N_AXES - 1)
        if "duration_s" in f:
            kw["duration_s"] = float(_number(where, "duration_s", f["duration_s"], lo=0.0, lo_open=True))
        if "percent" in f:
            kw["percent"] = _number(where, "percent", f["percent"], integer=True, lo=0, hi=99)
        if "bytes" in f:
            kw["bytes"] = _number(where, "bytes", f["bytes"], integer=True, lo=1, hi=65536)
        entries.append(FaultEntry(**kw))
    entries.sort(key=lambda e: e.at_s)
    return FaultPlan(tuple(entries), desc)


def load_fault_plan(path: str | os.PathLike) -> FaultPlan:
    """Read and validate the TOML fault plan at ``path``; :class:`FaultPlanError` says what is wrong."""
    p = Path(path)
    data = read_toml(p, FaultPlanError, f"fault plan {str(p)!r} not found",
                     lambda exc: f"fault plan {str(p)!r} is not valid TOML: {exc}")
    return parse_fault_plan(data, f"fault plan {str(p)!r}")


def parse_inject(options: list[str], base: FaultPlan | None = None) -> FaultPlan:
    """Fault entries from command-line options ``KIND@AT_S[,key=value...]`` (for ``--inject``), e.g.
    ``axis_stall@120,axis=1,duration_s=5``, validated like a plan file and merged with ``base``."""
    faults = []
    for opt in options:
        head, _, rest = opt.partition(",")
        kind, at, at_s = head.partition("@")
        if not at:
            raise FaultPlanError(f"--inject {opt!r}: write KIND@AT_S[,key=value...], "
                                 f"e.g. axis_stall@120,axis=1,duration_s=5")
        entry: dict = {"kind": kind, "at_s": at_s}
        for item in filter(None, rest.split(",")):
            key, eq, value = item.partition("=")
            if not eq:
                raise FaultPlanError(f"--inject {opt!r}: {item!r} is not key=value")
            entry[key] = value
        for key, value in entry.items():
            if key != "kind":
                try:
                    entry[key] = tomllib.loads(f"v = {value}")["v"]  # TOML's own number syntax
                except tomllib.TOMLDecodeError:
                    raise FaultPlanError(f"--inject {opt!r}: {key} = {value!r} is not a number") from None
        faults.append(entry)
    plan = parse_fault_plan({"fault": faults}, "--inject")
    if base is None:
        return plan
    return FaultPlan(tuple(sorted(base.entries + plan.entries, key=lambda e: e.at_s)), base.description)
