"""Regenerates the golden images. Run explicitly, after reviewing what changed:

    .venv/bin/python tests/golden/update.py            # every case
    .venv/bin/python tests/golden/update.py blog-paper # only the named cases

Images of cases that no longer exist are removed (only when regenerating everything).
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS), str(TESTS.parent / "server")]

from golden.cases import (  # noqa: E402 - needs the path above
    IMAGES,
    all_cases,
    compact_png,
    load_templates,
    make_renderer,
    render,
)


def main(names: list[str]) -> int:
    cases = all_cases()
    unknown = set(names) - {c.name for c in cases}
    if unknown:
        print(f"unknown cases: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    renderer, templates = make_renderer(), load_templates()
    IMAGES.mkdir(exist_ok=True)
    for case in cases:
        if names and case.name not in names:
            continue
        png = compact_png(render(case, renderer, templates))
        case.path.write_bytes(png)
        print(f"{case.path.relative_to(TESTS.parent)}  {len(png) // 1024} KB")
    if not names:
        keep = {c.path for c in cases}
        for stale in IMAGES.glob("*.png"):
            if stale not in keep:
                stale.unlink()
                print(f"removed {stale.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
