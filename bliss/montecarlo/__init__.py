"""Monte Carlo campaigns of a scenario with dispersed parameters, run as Dask tasks (docs/scenarios.md)."""
