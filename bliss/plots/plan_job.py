"""The plan plots as a job for a plot process (``bliss.io.forked.Worker``): module-level functions that
pickle by name, in a module light enough for the parent to import (matplotlib is imported only when they
run, in the plot process)."""
from __future__ import annotations

__all__ = ["prepare", "draw"]


def prepare() -> None:
    """Import matplotlib and draw a throw-away figure, before the plan's numbers arrive."""
    # lazy: matplotlib, imported by the plot process only (the parent imports this module)
    from bliss.plots.plan import warm_up

    warm_up()


def draw(paths: dict, data: dict) -> None:
    """Every plan plot to ``paths`` {file name: path} from ``bliss.io.plan_products.plot_data``'s numbers,
    in two processes (this one and a child forked here) while the parent waits: 0.4 s instead of 0.7 s
    for the default plan on this 2-core machine."""
    # lazy: matplotlib, imported by the plot process only (the parent imports this module)
    from bliss.io.forked import Forked
    from bliss.plots.plan import draw_plan_plots

    with Forked(lambda: draw_plan_plots(paths, data, groups=(1,))):
        draw_plan_plots(paths, data, groups=(0,))
