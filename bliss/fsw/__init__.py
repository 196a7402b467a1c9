"""The flight software: what would run on the spacecraft, and nothing else.

Onboard code reads the world only through its inputs (the typed messages of
:mod:`bliss.fsw.messages`: a navigation state estimate, a target prediction, sensor measurements, the
actuators' reported state) and never imports the simulator's truth (integrator, DOP853, ephemerides,
batch propagation) or the ground tools; an import-linter contract in ``pyproject.toml`` enforces it.

Modules: ``executive`` (the phase machine, ``Executive.reset``/``step``), ``steering`` (steering laws),
``matching`` (orbit matching and phasing), ``rendezvous`` (the rendezvous law), ``slew`` (slew-rate
definition and limiter), ``target`` (target prediction), ``orbit`` (osculating quantities for the
guards), ``messages``.
"""
