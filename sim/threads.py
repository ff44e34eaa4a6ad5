"""One BLAS thread per world: the per-aisle matrix products are tiny, and threads only spin on them.

Measured 7x slower with OpenBLAS threads on a loaded 2-core machine; parallelism comes from running
worlds in separate processes. The controller is built once (building it scans the loaded libraries,
about 1 ms), so entering the limit costs microseconds.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


def one_blas_thread() -> AbstractContextManager:
    """Context manager limiting BLAS to one thread."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
