"""Benchmark: one year of solar-sail flight by our integrator and by three independent ones.

The problem: a 10 g, 1 m^2 ideal sail (a_c = 2 P A / m, P = TSI/c at 1 AU, sim.constants) leaving Earth's
heliocentric state (C3 = 0) on 2028-01-01 TDB and flying one Julian year with the attitude fixed in the
RTN frame (clock 0) and held constant over segments (zero-order hold):

* ``segmented``: 52 segments of one week each, cone = 35.26 deg + 20 deg sin(2 pi k / 13);
* ``constant``: one segment at the locally optimal cone 35.26 deg (tan a = 1/sqrt 2, McInnes 1999).

Integrators (each flies the segments one after another, restarting at every switch):

* ``ours``      sim.integrator.propagate (numba DOP853, zero-order-hold segments in the compiled loop);
* ``scipy``     scipy.integrate.solve_ivp(method="DOP853") with a plain-Python right-hand side written
                below (same physics, own code), same absolute tolerances as ours;
* ``heyoka``    heyoka's Taylor integrator; the ODE is built once with the cone angle as a runtime
                parameter changed per segment; canonical units (AU, AU^3/GM = 1) because
                heyoka's tolerance applies to the whole state vector;
* ``ours-core``  the compiled core alone (sim.integrator.propagate_final, final state only), to show how
                much of ``ours`` is the Python wrapper;
* ``ours-cart``, ``ours-core-cart``  the same on Cartesian coordinates instead of the default modified
                equinoctial elements (sim.mee);
* ``hapsira``   hapsira's CowellPropagator (DOP853 via scipy) with the SRP added in its ``f``, and the two-body
                term evaluated with our GM_sun (hapsira's Sun.k is the DE405 value 1.32712442099e20, which
                alone moves the one-year end point by ~36 km); hapsira needs
                an old numpy/astropy stack, so it runs in its own interpreter (``$BLISS_POLIASTRO_PYTHON``
                or /work/venv-poliastro/bin/python), driven through a sub-script that reports JSON.
                Skipped with a note when absent.

Accuracy is measured against a reference flown by ours at rtol 1e-13, checked against scipy at rtol 1e-13
(their difference is printed). Each integrator runs at a few tolerances; wall time is the best of
``--repeats`` means over an inner loop of calls filling ``INNER_LOOP_S`` (one call for scipy), after a
warm-up call (numba compilation, heyoka JIT). Issue 10's two targets for the public ``propagate`` (at most
heyoka's time on the constant cone, 0.7 of it on the segmented year, at <= 1 km) are printed with the
verdict. "matched" rows pick, for each
integrator, the loosest tolerance tried whose final position error is within the accuracy target.
On a shared machine (load average printed in the header) the slower Python integrators' times are noisy. Batch
throughput: many one-year trajectories with sim.batch, per row (method "rows", MEE) and in vectorised blocks of
8 rows (method "lanes", Cartesian, sim.batch_lanes), on all cores and on one, beside heyoka's SIMD batch
integrator (taylor_adaptive_batch) on one thread, timed in interleaved rounds; --save adds the run on top of
benchmarks/results/propagation.txt and keeps the earlier runs below it.

Run:  cd /work/main && PYTHONPATH=. /work/venv/bin/python benchmarks/propagation.py [--save] [--repeats 5]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _report import Report, loadavg  # noqa: E402  (benchmarks/, the script's folder)
from sim.constants import AU, CONE_MAX_ALONG_TRACK, GM_SUN, JULIAN_YEAR  # noqa: E402
from sim.integrator import Schedule, propagate  # noqa: E402

#: Departure epoch: 2028-01-01 00:00:00 TDB, in seconds of TDB past J2000.0 (10 226.5 days).
T0_TDB_S = (10226.5) * 86400.0
N_SEGMENTS = 52
#: heyoka's tolerance in the batch row: its error on the segmented year (8e-7 km at 1e-9, table above) is
#: that of ours at the batch's rtol 1e-10 (4e-7 km).
HEYOKA_BATCH_TOL = 1e-9
#: Timed rounds of the batch section per --repeats: a round of all its methods takes ~0.1 s, and on the
#: shared machine a best of 2 was still hit by other work (lanes on 1 thread 38k against 90k alone).
BATCH_ROUNDS_PER_REPEAT = 4
#: Final-position accuracy targets for the "matched" rows [km].
TARGETS_KM = (1.0, 0.001)
#: Issue 10's speed targets for the public ``propagate`` at <= 1 km: at most heyoka's time on the constant
#: cone, at most 0.7 of it on the 52-segment year.
ISSUE_TARGET_KM = 1.0
ISSUE_TARGET_VS_HEYOKA = {"constant": 1.0, "segmented": 0.7}
#: The two tight references (ours and scipy at rtol 1e-13) must agree to this [km] for the errors to mean
#: anything (the smallest target is 1 m).
REF_AGREEMENT_KM = 1e-4

RESULTS = Path(__file__).resolve().parent / "results" / "propagation.txt"


# ------------------------------------------------------------------------------------------------------
# The problem
# ------------------------------------------------------------------------------------------------------
def make_problem(kind: str):
    """Return (y0 [m, m/s], seg_t [s], cones [rad]) for 'segmented' or 'constant'."""
    from sim.ephemeris import body_state

    r0, v0 = body_state("earth", T0_TDB_S)
    y0 = np.concatenate([np.asarray(r0, float), np.asarray(v0, float)])
    if kind == "segmented":
        seg_t = T0_TDB_S + np.linspace(0.0, JULIAN_YEAR, N_SEGMENTS + 1)
        k = np.arange(N_SEGMENTS)
        cones = CONE_MAX_ALONG_TRACK + np.radians(20.0) * np.sin(2.0 * np.pi * k / 13.0)
    elif kind == "constant":
        seg_t = np.array([T0_TDB_S, T0_TDB_S + JULIAN_YEAR])
        cones = np.array([CONE_MAX_ALONG_TRACK])
    else:
        raise ValueError(kind)
    return y0, seg_t, cones


def make_sail():
    from sim.sail import IDEAL, Sail

    return Sail(0.010, 1.0, IDEAL)


def rtn_coefficients(a_c: float, cones) -> tuple[np.ndarray, np.ndarray]:
    """Ideal sail, clock 0: a_srp = (AU/r)^2 [kr R + kt T] with kr = a_c cos^3, kt = a_c cos^2 sin.
    Returned multiplied by AU^2 [m^3/s^2], so a_srp = (kr R + kt T) / r^2."""
    c, s = np.cos(cones), np.sin(cones)
    return a_c * AU**2 * c**3, a_c * AU**2 * c**2 * s


# ------------------------------------------------------------------------------------------------------
# Integrators. Each returns dict(wall, nfev, steps, y_final)
# ------------------------------------------------------------------------------------------------------
#: Each timing is the mean of as many calls as fill this time [s] (at least one), best of --repeats: a
#: call of ours or heyoka takes 10-100 us, where a single call's time is mostly timer and cache noise.
INNER_LOOP_S = 2e-3


def best_of(fn, repeats: int):
    fn()  # warm-up: compilation, caches
    t = time.perf_counter()
    fn()  # one timed call sizes the inner loop
    n_inner = max(1, int(INNER_LOOP_S / max(time.perf_counter() - t, 1e-9)))
    best, out = math.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n_inner):
            out = fn()
        best = min(best, (time.perf_counter() - t) / n_inner)
    out["wall"] = best
    return out


def run_ours(y0, seg_t, cones, sail, rtol, formulation="mee"):
    """What a user writes: the schedule from the cone angles (clock 0), then ``propagate`` to the end."""
    traj = propagate(y0, Schedule.from_rtn(seg_t, cones, 0.0), sail, t_out=seg_t[-1:], rtol=rtol,
                     formulation=formulation)
    return {"nfev": traj.nfev, "steps": traj.n_steps, "y_final": traj.y_final}


def make_ours_core(y0, seg_t, cones, sail, rtol, formulation="mee"):
    """The compiled core alone (sim.integrator.propagate_final): no Python wrapper, no output arrays."""
    from sim.integrator import propagate_final

    n = len(cones)
    att = np.zeros((n, 3))
    att[:, 0] = cones
    args = (np.asarray(y0, float), np.ascontiguousarray(seg_t, dtype=float), np.ones(n, dtype=np.int64), att,
            sail.kernel_params())

    def go():
        return {"nfev": None, "steps": None,
                "y_final": np.asarray(propagate_final(*args, rtol=rtol, formulation=formulation), float)}

    return go


def _python_rhs(t, s, kr, kt):
    """Plain-Python right-hand side: Sun point mass + ideal sail fixed in RTN (clock 0). SI units."""
    x, y, z, vx, vy, vz = s
    r2 = x * x + y * y + z * z
    r = math.sqrt(r2)
    hx, hy, hz = y * vz - z * vy, z * vx - x * vz, x * vy - y * vx
    h = math.sqrt(hx * hx + hy * hy + hz * hz)
    rv = x * vx + y * vy + z * vz
    g = -GM_SUN / (r2 * r) + kr / (r2 * r)      # radial terms, times the position vector
    f = kt / (r2 * h * r)                       # transverse: T = (r^2 v - (r.v) r) / (h r)
    return [vx, vy, vz,
            g * x + f * (r2 * vx - rv * x),
            g * y + f * (r2 * vy - rv * y),
            g * z + f * (r2 * vz - rv * z)]


def run_scipy(y0, seg_t, cones, a_c, rtol):
    from scipy.integrate import solve_ivp

    kr, kt = rtn_coefficients(a_c, cones)
    atol = np.array([rtol * 1e10] * 3 + [rtol * 2e3] * 3)  # same absolute tolerances as ours
    y = np.array(y0, float)
    nfev = steps = 0
    for k in range(len(cones)):
        sol = solve_ivp(_python_rhs, (seg_t[k], seg_t[k + 1]), y, method="DOP853", rtol=rtol, atol=atol,
                        args=(kr[k], kt[k]))
        if not sol.success:
            raise RuntimeError(f"scipy failed on segment {k}: {sol.message}")
        y = sol.y[:, -1]
        nfev += sol.nfev
        steps += sol.t.size - 1
    return {"nfev": nfev, "steps": steps, "y_final": y}


class HeyokaSail:
    """heyoka Taylor integrator for the same ODE in canonical units (length AU, GM_sun = 1).

    Runtime parameters: par[0] = cone angle [rad] (changed per segment), par[1] = a_c in canonical units.
    """

    def __init__(self, tol):
        import heyoka as hy

        self.L = AU
        self.T = math.sqrt(AU**3 / GM_SUN)
        self.ta = hy.taylor_adaptive(self.system(), [1.0, 0, 0, 0, 1.0, 0], tol=tol, pars=[0.0, 0.0])

    @staticmethod
    def system():
        """The ODE in canonical units as heyoka expressions (state x, y, z, vx, vy, vz; par[0] cone, par[1] a_c)."""
        import heyoka as hy

        x, y, z, vx, vy, vz = hy.make_vars("x", "y", "z", "vx", "vy", "vz")
        cone, a_c = hy.par[0], hy.par[1]
        c, s = hy.cos(cone), hy.sin(cone)
        r2 = x * x + y * y + z * z
        r = hy.sqrt(r2)
        hx, hy_, hz = y * vz - z * vy, z * vx - x * vz, x * vy - y * vx
        h = hy.sqrt(hx * hx + hy_ * hy_ + hz * hz)
        rv = x * vx + y * vy + z * vz
        g = (a_c * c * c * c - 1.0) / (r2 * r)          # gravity + radial sail force, times r
        f = a_c * c * c * s / (r2 * h * r)              # transverse sail force, times (r^2 v - (r.v) r)
        return [(x, vx), (y, vy), (z, vz),
                (vx, g * x + f * (r2 * vx - rv * x)),
                (vy, g * y + f * (r2 * vy - rv * y)),
                (vz, g * z + f * (r2 * vz - rv * z))]

    def run(self, y0, seg_t, cones, a_c):
        ta = self.ta
        ta.state[:3] = np.asarray(y0[:3]) / self.L
        ta.state[3:] = np.asarray(y0[3:]) * self.T / self.L
        ta.time = seg_t[0] / self.T
        ta.pars[1] = a_c * AU**2 / GM_SUN  # a_c [m/s^2] in units of the Sun's gravity at 1 AU
        steps = 0
        for k in range(len(cones)):
            ta.pars[0] = cones[k]
            res = ta.propagate_until(seg_t[k + 1] / self.T)
            steps += res[3]
        y = np.concatenate([ta.state[:3] * self.L, ta.state[3:] * self.L / self.T])
        return {"nfev": None, "steps": steps, "y_final": y}


_HAPSIRA_SCRIPT = r'''
import json, math, sys, time
import numpy as np
from astropy import units as u
from hapsira.bodies import Sun
from hapsira.twobody import Orbit
from hapsira.twobody.propagation import CowellPropagator
from hapsira.core.propagation import func_twobody
spec = json.load(sys.stdin)
MU = spec["mu_km3_s2"]
calls = [0]
def make_f(kr, kt):
    def f(t0, s, k):
        calls[0] += 1
        du = func_twobody(t0, s, MU)  # the project's GM_sun, not hapsira's Sun.k (DE405 value)
        x, y, z, vx, vy, vz = s
        r2 = x*x + y*y + z*z; r = math.sqrt(r2)
        hx, hy, hz = y*vz - z*vy, z*vx - x*vz, x*vy - y*vx
        h = math.sqrt(hx*hx + hy*hy + hz*hz); rv = x*vx + y*vy + z*vz
        g = kr / (r2*r); q = kt / (r2*h*r)
        du[3] += g*x + q*(r2*vx - rv*x); du[4] += g*y + q*(r2*vy - rv*y); du[5] += g*z + q*(r2*vz - rv*z)
        return du
    return f
def fly(rtol):
    orb = Orbit.from_vectors(Sun, spec["r0_km"] * u.km, spec["v0_km_s"] * u.km / u.s)
    for dt, kr, kt in zip(spec["dt_s"], spec["kr"], spec["kt"]):
        orb = orb.propagate(dt * u.s, method=CowellPropagator(rtol=rtol, f=make_f(kr, kt)))
    return np.concatenate([orb.r.to_value(u.km), orb.v.to_value(u.km / u.s)])
out = {}
for rtol in spec["rtols"]:
    fly(rtol)
    best = math.inf
    for _ in range(spec["repeats"]):
        calls[0] = 0
        t = time.perf_counter(); y = fly(rtol); best = min(best, time.perf_counter() - t)
    out[repr(rtol)] = {"wall": best, "nfev": calls[0], "y_final_km": list(map(float, y))}
import hapsira
out["_version"] = hapsira.__version__
json.dump(out, sys.stdout)
'''


def hapsira_python() -> str | None:
    cand = os.environ.get("BLISS_POLIASTRO_PYTHON") or "/work/venv-poliastro/bin/python"
    return cand if Path(cand).exists() else None


def run_hapsira(y0, seg_t, cones, a_c, rtols, repeats):
    """Run the sub-script; returns ({rtol: result}, note)."""
    py = hapsira_python()
    if py is None:
        return {}, ("hapsira skipped: no interpreter (set BLISS_POLIASTRO_PYTHON or create "
                    "/work/venv-poliastro with the 'poliastro' extra)")
    kr, kt = rtn_coefficients(a_c, cones)
    spec = {"mu_km3_s2": GM_SUN / 1e9, "r0_km": list(y0[:3] / 1e3), "v0_km_s": list(y0[3:] / 1e3), "dt_s": list(np.diff(seg_t)),
            "kr": list(kr / 1e9), "kt": list(kt / 1e9), "rtols": list(rtols), "repeats": repeats}
    proc = subprocess.run([py, "-c", _HAPSIRA_SCRIPT], input=json.dumps(spec), capture_output=True,
                          text=True, timeout=3600)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {}, f"hapsira skipped: sub-script failed ({last})"
    data = json.loads(proc.stdout)
    version = data.pop("_version", "?")
    out = {}
    for key, val in data.items():
        out[float(key)] = {"wall": val["wall"], "nfev": val["nfev"], "steps": None,
                           "y_final": np.asarray(val["y_final_km"]) * 1e3}
    return out, f"hapsira {version} via {py}"


# ------------------------------------------------------------------------------------------------------
# Batch throughput
# ------------------------------------------------------------------------------------------------------
def run_batch(y0, seg_t, cones, sail, n_traj, rtol, repeats):
    """Throughput of n_traj one-year trajectories (cones perturbed per trajectory) by each batch method, on
    all numba threads and on one, timed in interleaved rounds (each round times every method once; the best
    round per method is kept, so a burst of load on the shared machine hits all of them alike).

    Returns (threads, rows, note): rows of (name, threads, trajectory-years/s, largest position error over
    the n_traj rows [km], row 0's error [km]), the errors against every row flown alone by ours at rtol
    1e-13 (MEE)."""
    import numba

    from sim import batch

    rng = np.random.default_rng(2028)
    cone_sets = np.clip(cones[None, :] + np.radians(5.0) * rng.standard_normal((n_traj, cones.size)),
                        0.0, np.radians(89.0))
    y0s = np.repeat(y0[None, :], n_traj, axis=0)
    years = n_traj * (seg_t[-1] - seg_t[0]) / JULIAN_YEAR
    threads = numba.get_num_threads()
    tight = batch_final(batch, y0s, seg_t, cone_sets, sail, 1e-13)
    finals = {}

    def ours(name, nthreads, **kw):
        def go():
            numba.set_num_threads(nthreads)
            try:
                finals[name] = batch_final(batch, y0s, seg_t, cone_sets, sail, rtol, **kw)
            finally:
                numba.set_num_threads(threads)
        return go

    lanes = {"method": "lanes"}
    methods = {  # name: (threads, go)
        "ours rows (MEE)": (threads, ours("ours rows (MEE)", threads)),
        "ours rows (MEE) ": (1, ours("ours rows (MEE) ", 1)),
        "ours lanes (Cartesian, W=8)": (threads, ours("ours lanes (Cartesian, W=8)", threads, **lanes)),
        "ours lanes (Cartesian, W=8) ": (1, ours("ours lanes (Cartesian, W=8) ", 1, **lanes)),
        "ours lanes, blocks of 1 row": (1, ours("ours lanes, blocks of 1 row", 1, lanes=1, **lanes)),
    }
    note = None
    try:
        import heyoka as hy
    except ImportError:
        note = "heyoka batch: skipped (heyoka not installed: pip install -e '.[bench]')"
    else:
        # heyoka's recommended batch size (its SIMD width on this machine) and, if different, 8 (one AVX-512
        # register of float64): the faster is the one to beat
        for b in sorted({hy.recommended_simd_size(), 8}):
            go_h, out_h = heyoka_batch_final(y0s, seg_t, cone_sets, sail.characteristic_acceleration,
                                             HEYOKA_BATCH_TOL, b)
            tag = "recommended" if b == hy.recommended_simd_size() else "not recommended"
            name = f"heyoka taylor_adaptive_batch (batch {b}, {tag}, tol {HEYOKA_BATCH_TOL:g})"

            def go_hey(go_h=go_h, out_h=out_h, name=name):
                go_h()
                finals[name] = out_h
            methods[name] = (1, go_hey)
    best = {name: math.inf for name in methods}
    for _, go in methods.values():
        go()  # warm-up: compilation, heyoka's first propagation
    for _ in range(repeats):
        for name, (_, go) in methods.items():
            t = time.perf_counter()
            go()
            best[name] = min(best[name], time.perf_counter() - t)
    rows = []
    for name, (nthreads, _) in methods.items():
        err = np.linalg.norm(finals[name][:, :3] - tight[:, :3], axis=1) / 1e3
        rows.append((name.strip(), nthreads, years / best[name], float(err.max()), float(err[0])))
    return threads, rows, note


def heyoka_batch_final(y0s, seg_t, cone_sets, a_c, tol, b=None):
    """Final states of many trajectories by heyoka's SIMD batch integrator (taylor_adaptive_batch, one thread,
    b trajectories per batch, by default heyoka.recommended_simd_size()), built once per call outside
    ``go``: returns go()."""
    import heyoka as hy

    n, nseg = cone_sets.shape
    b = b or hy.recommended_simd_size()
    L, T = AU, math.sqrt(AU**3 / GM_SUN)
    ta = hy.taylor_adaptive_batch(HeyokaSail.system(), np.zeros((6, b)), tol=tol, pars=np.zeros((2, b)))
    out = np.empty((n, 6))

    def go():
        for i0 in range(0, n, b):
            rows = np.arange(i0, i0 + b) % n  # the last batch padded with the first trajectories
            ta.set_time(np.full(b, seg_t[0] / T))
            ta.state[:3] = y0s[rows, :3].T / L
            ta.state[3:] = y0s[rows, 3:].T * T / L
            ta.pars[1] = a_c * AU**2 / GM_SUN
            for k in range(nseg):
                ta.pars[0] = cone_sets[rows, k]
                ta.propagate_until(seg_t[k + 1] / T)
            m = min(b, n - i0)
            out[i0:i0 + m, :3] = ta.state[:3, :m].T * L
            out[i0:i0 + m, 3:] = ta.state[3:, :m].T * L / T
        return {}

    return go, out


def batch_final(batch, y0s, seg_t, cone_sets, sail, rtol, **kw):
    """Final states of many trajectories through sim.batch.propagate_final_batch (RTN mode, clock 0);
    ``kw``: its ``method``, ``lanes``."""
    n, nseg = cone_sets.shape
    att = np.zeros((n, nseg, 3))
    att[:, :, 0] = cone_sets
    mode = np.ones(nseg, dtype=np.int64)  # 1: cone/clock fixed in the RTN frame
    return batch.propagate_final_batch(y0s, seg_t, mode, att, sail.kernel_params(), rtol=rtol, **kw)


# ------------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------------
def fmt_row(cols, widths):
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cols, widths)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--save", action="store_true", help=f"also write the table to {RESULTS}")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per configuration (best is kept)")
    ap.add_argument("--batch", type=int, default=256, help="trajectories in the batch-throughput run")
    ap.add_argument("--no-hapsira", action="store_true", help="skip the hapsira sub-process")
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.batch < 1:
        ap.error("--repeats and --batch must be at least 1")

    from tqdm import tqdm

    sail = make_sail()
    a_c = sail.characteristic_acceleration
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    report = Report("BLISS propagation benchmark",
                    f", load average {load:.1f} at start, best of {args.repeats} after warm-up")
    say = report.say
    say(f"sail 10 g, 1 m^2, ideal: a_c = {a_c * 1e3:.4f} mm/s^2; departure Earth 2028-01-01 TDB, C3 = 0; "
        f"1 Julian year")
    dop = (1e-6, 1e-8, 1e-10, 1e-12)  # DOP853 relative tolerances tried (ours, scipy, hapsira)
    tols = {"ours": dop, "ours-core": dop, "ours-cart": dop, "ours-core-cart": dop, "scipy": dop,
            "heyoka": (1e-6, 1e-9, 1e-12, 1e-15), "hapsira": dop}
    widths = (10, 6, 10, 7, 9, 6, 12)
    for kind in ("segmented", "constant"):
        y0, seg_t, cones = make_problem(kind)
        ref = run_ours(y0, seg_t, cones, sail, 1e-13)["y_final"]
        ref_sp = run_scipy(y0, seg_t, cones, a_c, 1e-13)["y_final"]
        say()
        ref_gap_km = np.linalg.norm(ref[:3] - ref_sp[:3]) / 1e3
        say(f"== {kind}: {len(cones)} segment(s); reference = ours at rtol 1e-13, final r = "
            f"{np.linalg.norm(ref[:3]) / AU:.6f} AU; |ours - scipy| at rtol 1e-13 = {ref_gap_km:.3e} km")
        if ref_gap_km > REF_AGREEMENT_KM:
            say(f"   WARNING: the two references disagree by more than {REF_AGREEMENT_KM:g} km; errors below "
                "that are not meaningful")
        rows = []
        jobs = [(name, tol) for name in ("ours", "ours-core", "ours-cart", "ours-core-cart", "scipy", "heyoka")
                for tol in tols[name]]
        for name, tol in tqdm(jobs, desc=f"{kind}", leave=False, file=sys.stderr):
            if name == "ours":
                res = best_of(lambda: run_ours(y0, seg_t, cones, sail, tol), args.repeats)
            elif name == "ours-core":
                res = best_of(make_ours_core(y0, seg_t, cones, sail, tol), args.repeats)
            elif name == "ours-cart":
                res = best_of(lambda: run_ours(y0, seg_t, cones, sail, tol, "cartesian"), args.repeats)
            elif name == "ours-core-cart":
                res = best_of(make_ours_core(y0, seg_t, cones, sail, tol, "cartesian"), args.repeats)
            elif name == "scipy":
                res = best_of(lambda: run_scipy(y0, seg_t, cones, a_c, tol), args.repeats)
            else:
                hs = HeyokaSail(tol)  # JIT compilation here, outside the timing
                res = best_of(lambda: hs.run(y0, seg_t, cones, a_c), args.repeats)
            rows.append((name, tol, res))
        if args.no_hapsira:
            note = "hapsira skipped (--no-hapsira)"
            hres = {}
        else:
            hres, note = run_hapsira(y0, seg_t, cones, a_c, tols["hapsira"], args.repeats)
        rows += [("hapsira", tol, res) for tol, res in sorted(hres.items(), reverse=True)]
        for _, _, res in rows:
            res["err_km"] = float(np.linalg.norm(res["y_final"][:3] - ref[:3]) / 1e3)
        ours_by_tol = {tol: res["wall"] for name, tol, res in rows if name == "ours"}
        say(fmt_row(("integrator", "tol", "wall [us]", "x ours", "RHS evals", "steps", "pos err [km]"),
                    widths))
        for name, tol, res in rows:
            ref_wall = ours_by_tol.get(tol) if name != "heyoka" else None
            ratio = f"{res['wall'] / ref_wall:.1f}" if ref_wall else "-"
            say(fmt_row((name, f"{tol:.0e}", f"{res['wall'] * 1e6:.1f}", ratio,
                         res["nfev"] if res["nfev"] is not None else "-",
                         res["steps"] if res["steps"] is not None else "-", f"{res['err_km']:.3e}"), widths))
        say(f"   ({note}; 'x ours' = wall / ours at the same rtol)")
        for target in TARGETS_KM:
            best = {}  # per integrator: the loosest tolerance that meets the target
            for name, tol, res in rows:
                if res["err_km"] <= target and (name not in best or tol > best[name][0]):
                    best[name] = (tol, res)
            if "ours" not in best:
                say(f"   matched at <= {target:g} km: ours does not reach it at the tolerances tried")
                continue
            base = best["ours"][1]["wall"]
            parts = [f"{name} {res['wall'] * 1e6:.1f} us (tol {tol:.0e}, x{res['wall'] / base:.2f})"
                     for name, (tol, res) in best.items()]
            say(f"   matched at <= {target:g} km: " + "; ".join(parts))
            if target == ISSUE_TARGET_KM and "heyoka" in best:
                limit = ISSUE_TARGET_VS_HEYOKA[kind]
                ratio = base / best["heyoka"][1]["wall"]
                say(f"   target (issue 10): public propagate <= {limit:g} x heyoka at <= {target:g} km: ours / heyoka "
                    f"= {ratio:.2f} -> {'met' if ratio <= limit else 'NOT met'}")

    y0, seg_t, cones = make_problem("segmented")
    try:
        rounds = BATCH_ROUNDS_PER_REPEAT * args.repeats
        threads, brows, note = run_batch(y0, seg_t, cones, sail, args.batch, 1e-10, rounds)
    except (ImportError, AttributeError, TypeError) as exc:
        say()
        say(f"== batch: skipped ({type(exc).__name__}: {exc})")
    else:
        say()
        say(f"== batch (sim.batch.propagate_final_batch): {args.batch} segmented one-year trajectories (cones "
            f"perturbed by 5 deg rms), rtol 1e-10; best of {rounds} interleaved rounds")
        say(f"   /proc/loadavg now: {loadavg()}")
        hey = sorted((r for r in brows if r[0].startswith("heyoka")), key=lambda r: -r[2])  # fastest first
        bw = (66, 7, 13, 8, 12, 10)
        say("   " + fmt_row(("method", "threads", "traj-years/s", "x heyoka", "max err [km]", "row 0 [km]"), bw))
        for name, nthreads, rate, err_max, err0 in brows:
            ratio = f"{rate / hey[0][2]:.2f}" if hey else "-"
            say("   " + fmt_row((name, nthreads, f"{rate:.0f}", ratio, f"{err_max:.1e}", f"{err0:.1e}"), bw))
        say("   (errors: final position against each row flown alone by ours at rtol 1e-13 (MEE), the largest "
            f"over the {args.batch} rows and row 0's; rows = one scalar DOP853 per row, lanes = blocks of 8 rows "
            "in lockstep, vectorised (sim.batch_lanes); blocks of 1 row = the same code with one lane per block; "
            "x heyoka = throughput / that of heyoka's faster batch size)")
        ours_2 = [r for r in brows if not r[0].startswith("heyoka") and r[1] == threads]
        if hey and ours_2:
            best = max(ours_2, key=lambda r: r[2])
            verdict = "met" if best[2] >= hey[0][2] else "NOT met"
            say(f"   target (issue 10): batch on {threads} threads >= heyoka's SIMD batch on 1 thread: "
                f"{best[0]} {best[2]:.0f} / {hey[0][2]:.0f} = {best[2] / hey[0][2]:.2f} -> {verdict}")
        if note:
            say(f"   {note}")

    say()
    say(f"/proc/loadavg at end: {loadavg()}")
    if args.save:
        report.save(RESULTS)  # this run on top, the earlier runs kept below
    return 0


if __name__ == "__main__":
    sys.exit(main())
