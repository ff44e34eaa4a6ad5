"""One BLAS thread per world: the per-aisle matrix products are tiny, and threads only spin on them.

Measured 7x slower with OpenBLAS threads on a loaded 2-core machine; parallelism comes from running
worlds in separate processes. The controller is built once (building it scans the loaded libraries,
about 1 ms), so entering the limit costs microseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None
_depth = 0  # nested entries are free: only the outermost one talks to the BLAS libraries


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Context manager limiting BLAS to one thread (re-entrant; inner entries cost nothing)."""
    global _controller, _depth
    if _depth:
        yield
        return
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
