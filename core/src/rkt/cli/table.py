"""Tab-aligned tables, as rkt's tabwriter printed them."""

from __future__ import annotations


def render(rows: list[list[str]], pad: int = 1) -> str:
    """Left-aligned columns separated by at least ``pad`` spaces plus alignment; no trailing spaces."""
    if not rows:
        return ""
    widths = [0] * max(len(r) for r in rows)
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    out = []
    for r in rows:
        cells = [c.ljust(widths[i] + pad) if i < len(r) - 1 else c for i, c in enumerate(r)]
        out.append("".join(cells).rstrip())
    return "\n".join(out) + "\n"
