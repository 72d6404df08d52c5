"""``rkt version``: rkt's lines (versions, then ``Features:``), or JSON."""

from __future__ import annotations

import sys
from types import SimpleNamespace

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Flag, fast_parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

#: the arguments are parsed here (see :func:`parse`), not by the dispatcher
RAW_ARGV = True
FLAGS = (Flag("--format", "output format", choices=("", "json")),)
EXAMPLE = "rkt version"
#: rkt's build features, as its ``Features:`` line printed them (``+`` built in, ``-`` not)
FEATURES = ("-TPM", "-SDJOURNAL")


def parse(argv: list[str]) -> argparse.Namespace:
    values = fast_parse(argv, FLAGS)
    if values is not None:
        return SimpleNamespace(**values)  # type: ignore[return-value]
    from rkt.cli.parser import parse_command

    return parse_command("version", argv, sys.modules[__name__])


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt import __version__
    from rkt_sdk import INTERFACE_VERSION

    args = parse(args.argv)
    info = {"rkt": __version__, "appc": "0.8.11", "stage1Interface": INTERFACE_VERSION,
            "python": ".".join(map(str, sys.version_info[:3])), "features": list(FEATURES)}
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(info) + "\n")
    else:
        sys.stdout.write(f"rkt Version: {__version__}\nappc Version: 0.8.11\nStage1 Interface Version: "
                         f"{INTERFACE_VERSION}\nPython Version: {info['python']}\nFeatures: {' '.join(FEATURES)}\n")
    return 0
