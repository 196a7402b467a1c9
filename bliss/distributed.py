"""Dask clusters for the ground tools (Monte Carlo campaigns, surveys): :func:`open_client`.

Without a scheduler address it starts a ``dask.distributed.LocalCluster`` of worker PROCESSES (one
thread each: the numba kernels hold the GIL-free work, processes keep BLAS and numba state apart), one
per core by default, with the scheduler, the workers and the dashboard all listening on the loopback
address 127.0.0.1 only, on free ports: nothing on the machine's network interfaces (Dask's scheduler
executes whatever a connected client submits, so an open port is remote code execution).

With ``scheduler`` (``tcp://host:8786`` or ``tls://host:8786``) it connects to an existing cluster; give
``security`` (a ``distributed.security.Security``, e.g. from :func:`tls_security`) for a TLS cluster.
docs/scenarios.md shows how to run a secured one.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

LOOPBACK = "127.0.0.1"


def tls_security(ca_file: str, cert_file: str, key_file: str | None = None):
    """Dask ``Security`` for a TLS cluster (mutual TLS: the client's certificate and key, the CA that
    signed the scheduler's), encryption required."""
    from distributed.security import Security

    for what, p in (("CA file", ca_file), ("certificate", cert_file), ("key", key_file)):
        if p is not None and not os.path.isfile(p):
            raise ValueError(f"TLS {what} {p!r} not found")
    return Security(tls_ca_file=ca_file, tls_client_cert=cert_file, tls_client_key=key_file,
                    require_encryption=True)


@contextmanager
def open_client(scheduler: str | None = None, n_workers: int | None = None, security=None):
    """Context manager yielding a ``dask.distributed.Client``: connected to ``scheduler`` (any address),
    or to a loopback-only LocalCluster of ``n_workers`` processes (default: one per core)."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler, security=security, timeout="20s")
        try:
            yield client
        finally:
            client.close()
        return
    n = int(n_workers or os.cpu_count() or 1)
    if n < 1:
        raise ValueError(f"n_workers must be at least 1, got {n}")
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host=LOOPBACK, scheduler_port=0,
                      dashboard_address=f"{LOOPBACK}:0", silence_logs=40,
                      worker_dashboard_address=f"{LOOPBACK}:0") as cluster, Client(cluster) as client:
        yield client
