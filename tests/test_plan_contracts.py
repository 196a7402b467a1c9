"""The planning contract (issue 8, "typed contracts"): PlanRequest/PlanOutcome between the CLI, the
pipeline and the writers, and the optimiser's starts chosen in one place (pipeline.optimiser_starts)."""
from types import SimpleNamespace

import numpy as np
import pytest

from bliss.guidance import pipeline
from bliss.guidance.pipeline import CRUDE_TOF_GUESS_S, WARM_MAX_MISS_M, PlanRequest, optimiser_starts
from sim.constants import AU, DAY


def _warm(miss_au, converged=False):
    return SimpleNamespace(miss_pos=miss_au * AU, converged=converged)


def test_the_user_guess_is_the_only_start():
    starts = optimiser_starts(None, None, 300.0 * DAY)
    assert [(w, g) for w, g, _ in starts] == [(None, 300.0 * DAY)]
    assert "--tof-guess-days" in starts[0][2]


def test_a_failed_feedback_law_starts_from_the_crude_guess_and_says_why():
    starts = optimiser_starts(None, "linear programme failed", None)
    assert [(w, g) for w, g, _ in starts] == [(None, CRUDE_TOF_GUESS_S)]
    assert "feedback warm start failed: linear programme failed" in starts[0][2]


@pytest.mark.parametrize("miss_au, converged, seeded", [
    (0.1, False, False),                        # far: the crude guess only
    (WARM_MAX_MISS_M / AU * 1.01, False, False),  # just beyond the limit
    (WARM_MAX_MISS_M / AU * 0.99, False, True),   # within it: seeds the optimiser
    (0.5, True, True),                          # converged (a flag the feedback law sets itself)
])
def test_the_feedback_transfer_seeds_only_when_close_with_the_crude_guess_as_fallback(miss_au, converged, seeded):
    warm = _warm(miss_au, converged)
    starts = optimiser_starts(warm, None, None)
    if seeded:
        assert [(w, g) for w, g, _ in starts] == [(warm, None), (None, CRUDE_TOF_GUESS_S)]
        assert starts[0][2] == "feedback transfer" and "fallback" in starts[1][2]
    else:
        assert [(w, g) for w, g, _ in starts] == [(None, CRUDE_TOF_GUESS_S)]
        assert f"missed by {miss_au:.3g} AU" in starts[0][2]


def test_the_request_builds_the_problem_it_describes():
    """make_problem(request, t): the request's sail, limits, target and third bodies, Earth's state plus
    the v_inf along Earth's velocity (1 km/s) at t."""
    from bliss.guidance.problem import Limits, Target
    from sim.ephemeris import BENNU, body_state
    from sim.sail import Sail

    t = 1.0e9
    req = PlanRequest(sail=Sail(), limits=Limits(max_cone_deg=60.0), target=Target(name="Bennu", body=BENNU),
                      dates=np.array([t]), v_inf=(1.0,))
    prob = pipeline.make_problem(req, t)
    r, v = body_state("earth", t)
    assert prob.sail is req.sail and prob.limits.max_cone_deg == 60.0 and prob.target is req.target
    np.testing.assert_allclose(prob.y_depart[:3], r, rtol=0, atol=1e-3)
    dv = prob.y_depart[3:] - v
    assert np.linalg.norm(dv) == pytest.approx(1000.0, rel=1e-12)
    assert dv @ v / (np.linalg.norm(dv) * np.linalg.norm(v)) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(Exception):  # frozen: a request is not changed on the way
        req.ephem = "de421"
