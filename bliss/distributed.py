"""A Dask cluster for embarrassingly parallel ground work (Monte Carlo runs, the NEA survey's refine).

:func:`open_client` yields a ``dask.distributed.Client``: connected to ``scheduler`` (an address such
as ``tcp://10.0.0.5:8786``) when given, else to a fresh ``LocalCluster`` with one single-threaded
process worker per core (numba kernels and the optimiser hold the GIL, so processes, not threads),
scheduler and dashboard bound to 127.0.0.1 only (nothing listens on the network).
"""
from __future__ import annotations

import contextlib
import os


@contextlib.contextmanager
def open_client(scheduler: str | None = None, n_workers: int | None = None, security=None):
    """Context manager yielding a ``dask.distributed.Client`` (closed, and its local cluster shut down,
    on exit). ``n_workers`` applies to the local cluster only (default: the number of cores);
    ``security``: a ``distributed.Security`` for TLS to a remote scheduler, or None."""
    from distributed import Client, LocalCluster  # imported here: dask is only needed by parallel work

    if scheduler is not None:
        if n_workers is not None:
            raise ValueError("n_workers applies to a local cluster; do not give it with a scheduler address")
        client = Client(scheduler, security=security)
        try:
            yield client
        finally:
            client.close()
        return
    n = (os.cpu_count() or 1) if n_workers is None else int(n_workers)
    if n < 1:
        raise ValueError(f"n_workers must be at least 1, got {n_workers!r}")
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", security=security)
    try:
        client = Client(cluster, security=security)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()
