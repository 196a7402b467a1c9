"""How well the survey screen ranks: Spearman correlation of the screen's time with the optimiser's
minimum time on the random NEA sample of ``benchmarks/survey_sample.py`` (one departure date).

The screen's two constants (K_EFF, K_PHASE) are fitted on the sample's first half (in file order, which
is completion order, unrelated to the screen) by a grid search for the largest Spearman rho, and the
correlation is reported on the held-out second half and on all objects. Objects the optimiser could
not close count as the longest times (tied last); rho over converged objects only is printed beside.

    python benchmarks/survey_correlation.py [benchmarks/results/survey_sample.jsonl]
"""
from __future__ import annotations

import json
import sys

import numpy as np
from scipy.stats import spearmanr

from bliss.survey.catalogue import load_catalogue
from bliss.survey.screen import K_EFF, K_PHASE, screen
from sim.constants import DAY
from sim.sail import Sail


def rho(screen_tof, opt_tof, ok):
    opt = np.where(ok, opt_tof, np.inf)
    all_ = spearmanr(screen_tof, opt).statistic
    conv = spearmanr(screen_tof[ok], opt_tof[ok]).statistic if ok.sum() > 2 else np.nan
    return float(all_), float(conv)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/survey_sample.jsonl"
    rows = [json.loads(line) for line in open(path) if line.strip()]
    cat = load_catalogue()
    k = np.array([r["row"] for r in rows])
    t_dep = rows[0]["t_depart"]
    opt = np.array([r["tof_s"] for r in rows], float)
    ok = np.array([r["converged"] for r in rows]) & np.isfinite(opt)
    a_c = Sail().characteristic_acceleration
    el = cat.elements[k]
    half = len(rows) // 2
    best = None
    for ke in (0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7):
        for kp in (0.03, 0.1, 0.3, 1.0, 3.0, 10.0):
            s = screen(el[:half], [t_dep], a_c, k_eff=ke, k_phase=kp)[0]
            r_all, _ = rho(s, opt[:half], ok[:half])
            if best is None or r_all > best[0]:
                best = (r_all, ke, kp)
    print(f"sample: {len(rows)} objects ({ok.sum()} closed by the optimiser), departure "
          f"{t_dep / DAY:.1f} d past J2000; optimiser wall time per object median "
          f"{np.median([r['seconds'] for r in rows]):.0f} s")
    print(f"fit on first {half}: best K_EFF={best[1]}, K_PHASE={best[2]} (rho {best[0]:.3f})")
    for name, ke, kp in (("shipped constants", K_EFF, K_PHASE), ("fitted constants", best[1], best[2])):
        s = screen(el, [t_dep], a_c, k_eff=ke, k_phase=kp)[0]
        r_all, r_conv = rho(s, opt, ok)
        r_held, r_held_c = rho(s[half:], opt[half:], ok[half:])
        print(f"{name} (K_EFF={ke}, K_PHASE={kp}): rho all {r_all:.3f} (converged only {r_conv:.3f}); "
              f"held-out half {r_held:.3f} (converged only {r_held_c:.3f})")
        fin = ok & np.isfinite(s)
        print(f"  screen/optimiser time ratio over converged: median {np.median(s[fin] / opt[fin]):.2f}, "
              f"10-90 % {np.percentile(s[fin] / opt[fin], 10):.2f}-{np.percentile(s[fin] / opt[fin], 90):.2f}")
    with open("/proc/loadavg") as f:
        print("loadavg:", f.read().strip())


if __name__ == "__main__":
    main()
