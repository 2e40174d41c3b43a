"""The allocator thresholds a rendering process sets with OGMINT_RENDER_KEEP_BUFFERS
(rendering/allocator.py)."""

from __future__ import annotations

import platform

import pytest

from ogmint.rendering.allocator import MMAP_THRESHOLD, TRIM_THRESHOLD, keep_render_buffers


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_both_thresholds() -> None:
    # mallopt refuses an mmap threshold above its ceiling (32 MiB on 64-bit): False then.
    assert keep_render_buffers()


def test_thresholds_hold_an_og_at_2x_buffer() -> None:
    og_2x_rgba = 2400 * 1260 * 4
    assert og_2x_rgba <= MMAP_THRESHOLD <= 32 * 1024 * 1024
    assert 3 * og_2x_rgba <= TRIM_THRESHOLD  # canvas, pixels handed over, encoder's buffer
