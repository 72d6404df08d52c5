"""argparse set up the way rkt's commands behave: rkt's exit code 254 on bad usage."""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


class RktArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 254 with a one-line message naming the flag."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: {message} (see '{self.prog.removesuffix(' IMAGE')} --help')\n")
        sys.exit(254)


def make_parser(prog: str, summary: str) -> RktArgumentParser:
    return RktArgumentParser(prog=prog, description=summary, allow_abbrev=False)


def duration(text: str) -> float:
    """Parse a Go-style duration (``30m``, ``1h30m``, ``10s``, ``500ms``, ``0``) into seconds."""
    import re

    if text in ("0", ""):
        return 0.0
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (examples: 30s, 10m, 1h30m)")
    return sum(float(n) * units[u] for n, u in parts)
