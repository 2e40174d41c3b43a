"""The C allocator's thresholds for a rendering process: canvas-sized buffers are reused.

Every render allocates a few canvas-sized buffers and frees them when it ends: the canvas, the
pixels handed to Pillow and the encoder's own, ~12 MB each at og@2x. With glibc's defaults
memory that size goes back to the kernel when freed (``munmap``, heap trimming) and the next
render faults every page in again, zeroed: 5-35 % of a WebP or JPEG render at og@2x or story
(bench/RESULTS.md, section ``format``). Served from the heap and kept there instead, the
buffers are reused, but a worker's RSS climbs in steps (each thread's arena to its own peak, plus
what fragmentation strands) to a plateau ~10-20 % higher (bench/RESULTS.md, section
``memory-mixed-keep-buffers``): so it is the operator's choice, ``OGMINT_RENDER_KEEP_BUFFERS``.
"""

from __future__ import annotations

import ctypes
from typing import Final

_M_TRIM_THRESHOLD: Final = -1
_M_MMAP_THRESHOLD: Final = -3
#: Allocations up to this size come from the heap: glibc's ceiling (32 MiB on 64-bit), above
#: the largest buffer of an og@2x or story render.
MMAP_THRESHOLD: Final = 32 * 1024 * 1024
#: Free memory a heap keeps before returning any to the kernel: room for one render's buffers.
TRIM_THRESHOLD: Final = 64 * 1024 * 1024


def keep_render_buffers() -> bool:
    """Sets both thresholds for this process (every thread's arena); False where the C library
    has no ``mallopt`` (not glibc) or refuses them."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except AttributeError:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
