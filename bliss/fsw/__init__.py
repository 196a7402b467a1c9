"""The flight software: what would run on the spacecraft, and nothing else.

Onboard code reads the world only through its inputs (the typed messages of
:mod:`bliss.fsw.messages`: a navigation state estimate, a target prediction, sensor measurements, the
actuators' reported state) and never imports the simulator's truth (integrator, DOP853, ephemerides,
batch propagation); an import-linter contract in ``pyproject.toml`` enforces it.
"""
