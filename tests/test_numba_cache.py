"""numba compilation is cached on disk: a second process loads the kernels instead of compiling."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, time
t = time.perf_counter()
from sim.constants import JULIAN_YEAR, AU, GM_SUN
from sim.integrator import Schedule, propagate
from sim.sail import Sail
from sim import dop853
import numpy as np
y0 = np.array([AU, 0, 0, 0, (GM_SUN / AU) ** 0.5, 0])
propagate(y0, Schedule.constant_rtn(0.0, JULIAN_YEAR, 0.6, 0.0), Sail())
st = dop853.integrate.stats
print(json.dumps({"hits": sum(st.cache_hits.values()), "misses": sum(st.cache_misses.values()),
                  "seconds": time.perf_counter() - t}))
"""


def _run(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_run_loads_compiled_integrator_from_disk(tmp_path):
    first = _run(tmp_path)
    second = _run(tmp_path)
    assert first["misses"] >= 1 and first["hits"] == 0  # compiled the first time
    assert second["hits"] >= 1 and second["misses"] == 0  # loaded, not compiled, the second time
    assert any(tmp_path.rglob("*.nbi"))  # index files were written to the cache directory
