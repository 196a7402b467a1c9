"""``--ephem``, shared by ``bliss propagate`` and ``bliss plan``: which planetary ephemeris gives Earth's
departure state and the ``--third-bodies`` table (``sim.ephemeris``; docs/ephemerides.md).

* ``builtin`` (default): astropy/ERFA, offline, nothing extra to install, valid 1900-2100.
* ``de421``: JPL DE421 read by jplephem from the ``de421`` data package (the ``de421`` extra of
  pyproject.toml; the kernel ships inside the pip package, nothing is downloaded at run time), valid
  1899-12-04 to 2053-10-09.

This module imports nothing heavy: the default path costs no new imports. Only ``--ephem de421`` loads
jplephem and the kernel, and a missing package or kernel is bad input (one-line
:class:`bliss.cli.UsageError`, exit code 2, before any file is written).
"""
from __future__ import annotations

from bliss.cli import UsageError

EPHEM_CHOICES = ("builtin", "de421")
DEFAULT_EPHEM = "builtin"
#: How to get DE421 in a clone of this repository (pyproject.toml extra ``de421``).
DE421_INSTALL = "pip install -e '.[de421]'"

#: What each choice is, for the summaries (``summary.json`` key ``ephemeris``).
EPHEM_SOURCES = {
    "builtin": "astropy built-in (ERFA epv00 Earth, plan94 planets), sim.ephemeris ephem='builtin'",
    "de421": "JPL DE421 (Folkner et al. 2008) from the de421 package via jplephem, sim.ephemeris ephem='de421'",
}

HELP = ("planetary ephemeris for Earth's departure state and --third-bodies: builtin (astropy/ERFA, "
        "offline, 1900-2100) or de421 (JPL DE421, 1899-12-04..2053-10-09; needs the de421 extra: "
        f"{DE421_INSTALL}); default {DEFAULT_EPHEM}")


def add_argument(parser) -> None:
    """Add ``--ephem`` to a subcommand parser (a bad choice is argparse's one-line error, exit 2)."""
    parser.add_argument("--ephem", default=DEFAULT_EPHEM, choices=EPHEM_CHOICES, type=str.lower,
                        metavar="{" + ",".join(EPHEM_CHOICES) + "}", help=HELP)


def require_ephemeris(name: str) -> str:
    """Return ``name`` if that ephemeris can be used here; UsageError (one line) if ``de421`` is chosen
    but jplephem, the ``de421`` package or its kernel files cannot be loaded."""
    if name not in EPHEM_CHOICES:
        raise UsageError(f"--ephem: unknown ephemeris {name!r}; allowed: {', '.join(EPHEM_CHOICES)}")
    if name == "builtin":
        return name
    from sim.ephemeris import body_state  # lazy: astropy, not paid by `bliss --help`

    try:  # J2000 lies inside DE421: this loads the package, its constants and the Earth/Moon/Sun records
        body_state("earth", 0.0, "de421")
    except (ImportError, OSError, ValueError):
        raise UsageError(f"--ephem de421: the JPL DE421 ephemeris (the de421 data package with jplephem) is "
                         f"not installed; install it with: {DE421_INSTALL} (or use --ephem builtin)") from None
    return name


def summary_block(name: str) -> dict:
    """The ``ephemeris`` entry of a command's summary.json."""
    return {"name": name, "source": EPHEM_SOURCES[name]}
