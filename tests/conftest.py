import sys
from pathlib import Path

# allow running the tests from a checkout without installing
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest

#: Tests that took more than 5 s each in a full run on the project's 2-core machine (2026-12-01, load
#: ~5, `pytest --durations`): marked `slow` here in one place, so `pytest -m "not slow"` is a quick
#: check (the README's command runs them all). Node ids without parameters cover every parameter set.
SLOW_TESTS = {
    "tests/test_feedback.py::test_earth_to_bennu_schedule_replays_and_reports_honest_miss",
    "tests/test_feedback.py::test_perihelion_guard_keeps_a_late_2027_departure_away_from_the_sun",
    "tests/test_feedback.py::test_orbit_matching_converges_for_a_nearby_orbit",
    "tests/test_feedback.py::test_rendezvous_law_closes_a_short_range_miss",
    "tests/test_cli_plan.py::test_written_schedule_replays_to_a_rendezvous",
    "tests/test_cli_plan.py::test_bennu_plan_replays_from_the_written_files_to_bennu",
    "tests/test_integrator.py::test_batch_equals_serial",
    "tests/test_numba_cache.py::test_second_run_loads_compiled_integrator_from_disk",
    "tests/test_numba_cache.py::test_a_default_propagation_compiles_only_its_formulation",  # ~8 s, 2026-12-02
    "tests/test_aem.py::test_aem_round_trip",
    "tests/test_firmware_fuzz.py::test_standalone_fuzz_driver_finds_no_fault",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.split("[")[0] in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
