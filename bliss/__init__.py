"""BLISS spacecraft software and ground tools, built on the simulator's physics (``sim``)."""
import sim  # noqa: F401  (configures the numba cache before any kernel here is compiled)
