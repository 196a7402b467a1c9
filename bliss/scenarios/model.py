"""Mission scenarios as data: the TOML schema, validated on load.

A scenario file (``scenarios/NAME.toml``, read with :mod:`tomllib`) names a mission: the sail, the
departure, the target, the attitude limits, the navigation and sensor errors, the fault plan, the stages
to run and the results expected. :func:`load` turns it into a :class:`Scenario` or raises
:class:`ScenarioError` with one line naming the file and the key: an unknown key (a typo) is an error,
never silently ignored; a wrong type or a value out of range says what is allowed.

The schema is the dataclasses below: every field's type and its ``metadata`` range (``gt``, ``ge``,
``le``, ``choices``) are checked by :func:`_build`; cross-field rules (exactly one target source, a
date or a window) in each class's ``check``. docs/scenarios.md describes the format.
"""
from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path

from bliss.io.faultplan import FaultPlanError, load_fault_plan, parse_fault_plan
from bliss.io.toml_file import read_toml

#: Folder of the repository's scenario files (``scenarios/`` at the repository root).
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
#: Stage names a scenario may list (what each does: ``bliss.scenarios.stages.STAGES``).
KNOWN_STAGES = ("plan", "feedback", "attitude", "sil")


class ScenarioError(ValueError):
    """A scenario file that cannot be used: one line naming the file and what is wrong."""


def _rng(**kw):
    return {"metadata": kw}


@dataclass(frozen=True)
class SailSpec:
    mass_g: float = field(default=10.0, **_rng(gt=0))       # total spacecraft mass [g] (BLISS: 10 g)
    area_m2: float = field(default=1.0, **_rng(gt=0))       # sail area [m^2] (BLISS: 1 m^2)
    optics: str = field(default="ideal", **_rng(choices=("ideal", "mcinnes", "nea-scout")))


@dataclass(frozen=True)
class DepartureSpec:
    date: str | None = None                  # ISO 8601, TDB unless a scale follows
    window: list | None = None               # [START, END, STEP_DAYS]: scan and take the shortest transfer
    v_inf_km_s: list | None = None           # [magnitude along Earth's velocity] or [x, y, z] km/s

    def check(self, where):
        if (self.date is None) == (self.window is None):
            raise ScenarioError(f"{where}: give exactly one of 'date' or 'window'")
        if self.window is not None and (len(self.window) != 3 or not all(isinstance(w, (str, int, float))
                                                                         for w in self.window)):
            raise ScenarioError(f"{where}.window: needs [\"START\", \"END\", STEP_DAYS], got {self.window!r}")
        if self.v_inf_km_s is not None and (len(self.v_inf_km_s) not in (1, 3) or not all(
                isinstance(v, (int, float)) and math.isfinite(v) for v in self.v_inf_km_s)):
            raise ScenarioError(f"{where}.v_inf_km_s: one number (along Earth's velocity) or three (x y z) "
                                f"km/s, got {self.v_inf_km_s!r}")


@dataclass(frozen=True)
class TargetSpec:
    name: str | None = None       # named body: "bennu"
    elements: str | None = None   # "a_AU e i_deg raan_deg argp_deg M_deg epoch" (as bliss plan --elements)
    mpcorb: str | None = None     # one MPCORB line
    catalogue: str | None = None  # designation of a row of bliss/scenarios/data/neas_subset.csv
    mode: str = field(default="rendezvous", **_rng(choices=("rendezvous", "orbit")))
    tof_days: float | None = field(default=None, **_rng(gt=0))  # fixed time of flight [days]

    def check(self, where):
        given = [k for k in ("name", "elements", "mpcorb", "catalogue") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ScenarioError(f"{where}: give exactly one of name, elements, mpcorb, catalogue "
                                f"(got {', '.join(given) or 'none'})")


@dataclass(frozen=True)
class LimitsSpec:
    max_cone_deg: float = field(default=70.0, **_rng(gt=0, le=90))
    max_slew_deg_per_day: float = field(default=10.0, **_rng(gt=0))


@dataclass(frozen=True)
class PlanSpec:
    segments: int | None = field(default=None, **_rng(ge=1))        # optimiser's segment count
    tof_guess_days: float | None = field(default=None, **_rng(gt=0))  # skip the feedback warm start


@dataclass(frozen=True)
class ErrorsSpec:
    """One-sigma errors (Gaussian) drawn by the Monte Carlo (``bliss.montecarlo.dispersions``)."""

    departure_position_km: float = field(default=0.0, **_rng(ge=0))  # per axis
    departure_velocity_m_s: float = field(default=0.0, **_rng(ge=0))  # per axis
    nav_position_km: float = field(default=0.0, **_rng(ge=0))        # per axis, per guidance step
    nav_velocity_m_s: float = field(default=0.0, **_rng(ge=0))       # per axis, per guidance step
    pointing_deg: float = field(default=0.0, **_rng(ge=0))           # per segment, cone and clock
    optics_degradation: float = field(default=0.0, **_rng(ge=0, le=1))  # fractional thrust loss (|N|)
    mass_fraction: float = field(default=0.0, **_rng(ge=0, le=0.5))
    area_fraction: float = field(default=0.0, **_rng(ge=0, le=0.5))
    # attitude-loop Monte Carlo (--mode attitude, the attitude stage's span flown per run):
    actuator_fault_probability: float = field(default=0.0, **_rng(ge=0, le=1))  # a run has one axis fault
    cp_offset_mm: float = field(default=0.0, **_rng(ge=0, le=5))     # centre-of-pressure offset, per axis
    sensor_noise_fraction: float = field(default=0.0, **_rng(ge=0, le=1))  # noise scale 1 + N(0, sigma)


@dataclass(frozen=True)
class AttitudeSpec:
    """The attitude/SIL stage's span: the closed-loop software-in-the-loop flight (``bliss fly``'s
    ``fly_closed_loop``) over ``days`` from ``start_day`` after departure (``bliss.scenarios.sil_span``)."""

    start_day: float = field(default=0.0, **_rng(ge=0, le=800))   # span start [days after departure]
    days: float = field(default=1.0, **_rng(gt=0, le=30))         # span length [days]
    period_s: float = field(default=2.0, **_rng(ge=0.5, le=10))   # attitude control period [s]
    seed: int = field(default=1, **_rng(ge=0))                    # sensor noise and OD error seed
    cp_offset_mm: list = field(default_factory=lambda: [1.0, 0.5])  # centre-of-pressure offset x, y [mm]
    sun_sigma_deg: float = field(default=0.5, **_rng(ge=0))       # Sun sensor noise, 1 sigma (sim.sensors)
    star_sigma_deg: float = field(default=0.03, **_rng(ge=0))     # star camera noise, 1 sigma
    gyro_arw_deg_rt_s: float = field(default=0.014, **_rng(ge=0))  # gyro angle random walk [deg/sqrt(s)]
    od_period_days: float = field(default=7.0, **_rng(gt=0))      # ground OD upload period
    od_sigma_km: float = field(default=10.0, **_rng(ge=0))        # OD position error, 1 sigma per axis
    od_sigma_cm_s: float = field(default=1.0, **_rng(ge=0))       # OD velocity error, 1 sigma per axis
    od_approach_period_days: float = field(default=1.0, **_rng(gt=0))  # OD period within the approach range
    od_approach_range_km: float = field(default=2.0e6, **_rng(ge=0))   # approach range from the target (0: none)

    def check(self, where):
        if len(self.cp_offset_mm) != 2 or not all(_is(v, float) and abs(v) <= 5 for v in self.cp_offset_mm):
            raise ScenarioError(f"{where}.cp_offset_mm: needs [X, Y] in mm, each within +-5, got {self.cp_offset_mm!r}")


@dataclass(frozen=True)
class FaultsSpec:
    """Fault plan of the attitude stage: a file (relative to the scenario) or inline events, both in the
    bench's fault-plan format (``bliss.io.faultplan``, docs/bench.md; ``at_s`` counted from the span's
    start), validated on load. Software in the loop flies ``sensor_dropout`` and ``axis_stall``."""

    file: str | None = None
    events: list = field(default_factory=list)

    def check(self, where):
        if self.file is not None and self.events:
            raise ScenarioError(f"{where}: give 'file' or 'events', not both")
        if not all(isinstance(e, dict) for e in self.events):
            raise ScenarioError(f"{where}.events: each event must be a table, e.g. {{at_s = 3600, kind = \"...\"}}")


@dataclass(frozen=True)
class Expectation:
    """An expected result: ``value`` +- ``tol``, and/or bounds ``min``/``max``; or ``equals`` (bools,
    strings)."""

    value: float | None = None
    tol: float | None = field(default=None, **_rng(ge=0))
    min: float | None = None
    max: float | None = None
    equals: bool | str | None = None

    def check(self, where):
        if (self.value is None) != (self.tol is None):
            raise ScenarioError(f"{where}: 'value' and 'tol' go together")
        if self.value is None and self.min is None and self.max is None and self.equals is None:
            raise ScenarioError(f"{where}: give value+tol, min, max or equals")

    def failure(self, got) -> str | None:
        """Why ``got`` fails this expectation (None: it holds)."""
        if self.equals is not None:
            return None if got == self.equals else f"expected {self.equals!r}, got {got!r}"
        if got is None or not math.isfinite(float(got)):
            return f"expected a number, got {got!r}"
        g = float(got)
        if self.value is not None and abs(g - self.value) > self.tol:
            return f"expected {self.value:g} +- {self.tol:g}, got {g:.6g} (off by {g - self.value:+.4g})"
        if self.min is not None and g < self.min:
            return f"expected >= {self.min:g}, got {g:.6g}"
        if self.max is not None and g > self.max:
            return f"expected <= {self.max:g}, got {g:.6g}"
        return None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    stages: list = field(default_factory=lambda: ["plan"])
    sail: SailSpec = field(default_factory=SailSpec)
    departure: DepartureSpec = field(default_factory=DepartureSpec)
    target: TargetSpec = field(default_factory=TargetSpec)
    limits: LimitsSpec = field(default_factory=LimitsSpec)
    plan: PlanSpec = field(default_factory=PlanSpec)
    errors: ErrorsSpec = field(default_factory=ErrorsSpec)
    attitude: AttitudeSpec = field(default_factory=AttitudeSpec)
    faults: FaultsSpec = field(default_factory=FaultsSpec)
    #: {stage: {quantity: Expectation}}
    expected: dict = field(default_factory=dict)
    #: Stages of the fast test tier (tests/scenarios): a subset of ``stages``; empty = slow tier only.
    fast_stages: list = field(default_factory=list)
    path: Path | None = None

    def check(self, where):
        # lazy: the stages import scipy and numba (the planner); bliss.cli.scenario imports this module at its top
        from bliss.scenarios.stages import STAGES, stage_unavailable

        if not self.stages:
            raise ScenarioError(f"{where}.stages: list at least one stage ({', '.join(STAGES)})")
        for s in list(self.stages) + list(self.fast_stages):
            if not isinstance(s, str) or s not in KNOWN_STAGES:
                raise ScenarioError(f"{where}.stages: unknown stage {s!r}: choose from {', '.join(KNOWN_STAGES)}")
            why = stage_unavailable(s)
            if why:
                raise ScenarioError(f"{where}.stages: stage {s!r} is not available in this build: {why}")
        if not set(self.fast_stages) <= set(self.stages):
            raise ScenarioError(f"{where}.fast_stages: {self.fast_stages} must be among stages {self.stages}")
        for stage, table in self.expected.items():
            if stage not in self.stages:
                raise ScenarioError(f"{where}.expected.{stage}: the scenario does not run stage {stage!r}")
            for q in table:
                if q not in STAGES[stage].quantities:
                    raise ScenarioError(f"{where}.expected.{stage}.{q}: unknown quantity; stage {stage!r} gives "
                                        f"{', '.join(STAGES[stage].quantities)}")


_TYPE_NAMES = {float: "a number", int: "a whole number", str: "a string", bool: "true or false",
               list: "a list", dict: "a table"}


def _is(value, tp) -> bool:
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


_HINTS: dict = {}  # dataclass -> its resolved type hints


def _build(cls, table, where: str):
    """Instance of dataclass ``cls`` from TOML ``table``; ScenarioError naming ``where.key`` otherwise."""
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: must be a table")
    hints = _HINTS.get(cls) or _HINTS.setdefault(cls, typing.get_type_hints(cls))
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "path"}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ScenarioError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(fields)}")
    kw = {}
    for key, value in table.items():
        f, tp, at = fields[key], hints[key], f"{where}.{key}"
        if dataclasses.is_dataclass(tp):
            kw[key] = _build(tp, value, at)
            continue
        if key == "expected":
            kw[key] = {st: {q: _expectation(v, f"{at}.{st}.{q}") for q, v in _table(qs, f"{at}.{st}").items()}
                       for st, qs in _table(value, at).items()}
            continue
        options = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
        options = [typing.get_origin(o) or o for o in options]
        if not any(_is(value, o) for o in options):
            raise ScenarioError(f"{at}: must be {' or '.join(_TYPE_NAMES.get(o, o.__name__) for o in options)}, "
                                f"got {value!r}")
        m = f.metadata
        if "choices" in m and value not in m["choices"]:
            raise ScenarioError(f"{at}: {value!r} is not one of {', '.join(m['choices'])}")
        if "gt" in m and not value > m["gt"]:
            raise ScenarioError(f"{at}: must be > {m['gt']}, got {value!r}")
        if "ge" in m and not value >= m["ge"]:
            raise ScenarioError(f"{at}: must be >= {m['ge']}, got {value!r}")
        if "le" in m and not value <= m["le"]:
            raise ScenarioError(f"{at}: must be <= {m['le']}, got {value!r}")
        kw[key] = value
    missing = [n for n, f in fields.items()
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and n not in kw]
    if missing:
        raise ScenarioError(f"{where}.{missing[0]}: required key missing")
    obj = cls(**kw)
    if hasattr(obj, "check"):
        obj.check(where)
    return obj


def _table(value, where) -> dict:
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: must be a table")
    return value


def _expectation(value, where) -> Expectation:
    if isinstance(value, (bool, str)):
        return Expectation(equals=value)
    return _build(Expectation, value, where)


def load(path) -> Scenario:
    """Read and validate one scenario file."""
    path = Path(path)
    data = read_toml(path, ScenarioError, f"{path}: no such scenario file",
                     lambda exc: f"{path}: not valid TOML ({exc})")
    sc = _build(Scenario, data, path.name)
    if sc.name != path.stem:
        raise ScenarioError(f"{path.name}.name: {sc.name!r} must equal the file name {path.stem!r}")
    if sc.faults.file is not None and not (path.parent / sc.faults.file).is_file():
        raise ScenarioError(f"{path.name}.faults.file: {sc.faults.file!r} not found beside the scenario")
    sc = dataclasses.replace(sc, path=path)
    fault_plan(sc)  # validated now: a bad fault is a load error, not a failure hours into a run
    return sc


#: Fault kinds the attitude stage flies in software (the others need a board: ``bliss fly --actuators``).
SIL_FAULT_KINDS = ("sensor_dropout", "axis_stall")


def fault_plan(sc):
    """The scenario's fault plan (a ``bliss.io.faultplan.FaultPlan``; None when it has no faults)."""
    f, where = sc.faults, f"{sc.path.name if sc.path else sc.name}.faults"
    try:
        if f.file is not None:
            plan = load_fault_plan(sc.path.parent / f.file)
        elif f.events:
            plan = parse_fault_plan({"fault": list(f.events)}, f"{where}.events")
        else:
            return None
    except FaultPlanError as exc:
        raise ScenarioError(str(exc)) from None
    bad = [e.kind for e in plan.entries if e.kind not in SIL_FAULT_KINDS]
    if bad:
        raise ScenarioError(f"{where}: fault kind {bad[0]!r} needs a board (bliss fly --actuators emulated); "
                            f"the attitude stage flies {', '.join(SIL_FAULT_KINDS)}")
    return plan


def scenario_files(folder: Path = SCENARIO_DIR) -> list[Path]:
    return sorted(Path(folder).glob("*.toml"))


def find(name: str, folder: Path = SCENARIO_DIR) -> Scenario:
    """The scenario called ``name`` (file ``folder/name.toml``), or a path to a scenario file."""
    p = Path(name)
    if p.suffix == ".toml" and p.is_file():
        return load(p)
    cand = Path(folder) / f"{name}.toml"
    if not cand.is_file():
        names = ", ".join(f.stem for f in scenario_files(folder))
        raise ScenarioError(f"unknown scenario {name!r}: choose one of {names} (bliss scenario list)")
    return load(cand)
