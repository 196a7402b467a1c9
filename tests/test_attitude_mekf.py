"""MEKF consistency (normalised estimation-error squared) and convergence."""
import math

import numpy as np
from scipy import stats

from bliss.fsw.attitude.mekf import Mekf, nees
from bliss.fsw.messages import GyroMeasurement, StarCameraMeasurement, SunSensorMeasurement
from sim.quaternion import error_angles, rotate_by_rate
from sim.sensors import SensorSpec, gyro_sample, star_camera, sun_sensor


def _run(seed, n_steps=1500, dt=1.0, spec=SensorSpec()):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    bias = rng.normal(size=3) * spec.gyro_bias0
    light = np.array([1.0, 0.2, -0.1])
    light /= np.linalg.norm(light)
    # start with the Sun in the sensor's field: point body -z at the Sun, then a random roll
    z = light
    x = np.cross([0, 0, 1.0], z)
    x /= np.linalg.norm(x)
    from bliss.guidance.schedule import matrix_to_quaternion
    q = matrix_to_quaternion(np.column_stack([x, np.cross(z, x), z]))
    sig0 = math.radians(2.0)
    q_est = q.copy()
    rotate_by_rate(q_est, rng.normal(size=3) * sig0, 1.0)  # initial error drawn from the prior
    f = Mekf(0.0, q_est, sig0, spec.gyro_bias0, spec.gyro_arw, spec.gyro_rrw, spec.sun_sigma, spec.star_sigma)
    out = []
    gyro = np.empty(3)
    sun = np.empty(3)
    qs = np.empty(4)
    for k in range(1, n_steps + 1):
        t = k * dt
        w_true = 2e-3 * np.array([math.sin(t / 300), math.cos(t / 170), 0.5 * math.sin(t / 90)])
        gyro_sample(w_true, bias, spec.gyro_arw, spec.gyro_rrw, dt, rng.normal(size=6), gyro)
        rotate_by_rate(q, w_true, dt)
        f.propagate(GyroMeasurement(t, gyro, dt))
        if sun_sensor(q, light, spec.sun_sigma, spec.sun_fov, rng.normal(size=2), sun):
            f.update_sun(SunSensorMeasurement(t, sun), -light)
        if k % int(spec.star_period / dt) == 0:
            star_camera(q, spec.star_sigma, rng.normal(size=3), qs)
            f.update_star(StarCameraMeasurement(t, qs))
        out.append(nees(f.q, f.b, f.P, q, bias))
    err = np.empty(3)
    error_angles(f.q, q, err)
    return np.array(out), np.linalg.norm(err)


def test_mekf_is_consistent_by_nees():
    runs = [_run(seed) for seed in range(20)]
    n = np.array([r[0] for r in runs])  # (runs, steps)
    mean_nees = n[:, 100:].mean()  # after the initial transient
    # average of 20 runs x 1400 correlated samples: the run-averaged NEES must sit within the two-sided
    # 99 % interval of chi2(6 * 20) / 20 at each sample, and its time mean near 6
    lo, hi = stats.chi2.ppf([0.005, 0.995], 6 * 20) / 20
    per_time = n.mean(axis=0)[100:]
    assert lo < np.median(per_time) < hi
    assert np.mean((per_time > lo) & (per_time < hi)) > 0.9
    assert 4.5 < mean_nees < 7.5
    # the attitude error ends near the star camera's accuracy, well under the 2 deg prior
    assert max(r[1] for r in runs) < math.radians(0.1)
