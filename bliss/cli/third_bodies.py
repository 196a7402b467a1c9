"""``--third-bodies``, shared by ``bliss propagate`` and ``bliss plan``: the planets a user may add, the
validation of the option (one-line :class:`bliss.cli.UsageError`, exit code 2) and the sampled position
table the integrator flies through (``sim.ephemeris.planet_table`` -> ``sim.integrator.ThirdBodies``).
"""
from __future__ import annotations

from bliss.cli import UsageError
from bliss.guidance.pipeline import first_line as one_line  # first line of a lower layer's message

#: Perturbing planets allowed with --third-bodies. Not Earth or the Moon: both commands depart from
#: Earth's centre (C3 = 0 or a v_inf, no escape phase modelled), where their pull is singular.
THIRD_BODY_CHOICES = ("mercury", "venus", "mars", "jupiter", "saturn", "uranus", "neptune")
#: Sampling step of the third-body table [s]: 0.5 day, interpolated by cubic Hermite in sim.dynamics.
THIRD_BODY_STEP_S = 0.5 * 86400.0

HELP = ("comma-separated planets whose pull is added (e.g. 'venus,mars,jupiter'; allowed: "
        f"{', '.join(THIRD_BODY_CHOICES)}); default none (Sun + sail only)")


def parse_third_bodies(text: str) -> tuple[str, ...]:
    """Planet names from ``--third-bodies`` text (comma-separated, any case, duplicates dropped, order
    kept); UsageError for Earth/Moon/EMB or an unknown name. Empty text: no third bodies."""
    parts = [n.strip().lower() for n in (text or "").split(",")]
    if text and text.strip() and not all(parts):
        raise UsageError(f"--third-bodies {text!r} has an empty name (a doubled, leading or trailing comma); "
                         f"give names separated by single commas, e.g. 'venus,mars'")
    names = tuple(dict.fromkeys(n for n in parts if n))
    for name in names:
        if name in ("earth", "moon", "emb"):
            raise UsageError(f"--third-bodies: {name!r} is not allowed because the sail starts at Earth's "
                             f"centre (singular pull); allowed: {', '.join(THIRD_BODY_CHOICES)}")
        if name not in THIRD_BODY_CHOICES:
            raise UsageError(f"--third-bodies: unknown body {name!r}; allowed: {', '.join(THIRD_BODY_CHOICES)}")
    return names


def third_body_table(names: tuple[str, ...], t0: float, t1: float, ephem: str = "builtin"):
    """Positions of ``names`` sampled every ``THIRD_BODY_STEP_S`` over [t0, t1] (TDB s past J2000) from
    ephemeris ``ephem`` (``--ephem``: "builtin" or "de421") as a ``sim.integrator.ThirdBodies``;
    UsageError if the span leaves the ephemeris range."""
    # lazy: astropy and numba, not paid by `bliss --help`
    from sim.ephemeris import planet_table
    from sim.integrator import ThirdBodies

    try:
        table = planet_table(names, t0, t1, THIRD_BODY_STEP_S, ephem=ephem)
    except ValueError as exc:
        raise UsageError(f"--third-bodies: {one_line(exc)}") from None
    return ThirdBodies.from_planet_table(table, names=tuple(names))
