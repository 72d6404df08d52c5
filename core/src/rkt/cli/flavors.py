"""``rkt flavors``: the installed stage1 flavors and whether this host can run them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Flag, bool_flag

EXAMPLE = "rkt flavors --format=json-pretty"
FLAGS = (
    Flag("--format", "output format", choices=("", "json", "json-pretty")),
    bool_flag("--no-legend", "suppress the table's header and footnote"),
)

def to_json(report: Any, default: str) -> dict[str, Any]:
    """One flavor as ``rkt flavors --format=json`` prints it."""
    info = report.info
    return {
        "name": report.entry.name, "distribution": report.entry.dist,
        "distributionVersion": report.entry.dist_version,
        "version": info.version if info else None,
        "interfaceVersion": info.interface_version if info else None,
        "summary": info.summary if info else "",
        "capabilities": info.capabilities.to_dict() if info else None,
        "default": report.entry.name == default,
        "broken": report.broken, "error": report.error,
        "canRun": report.can_run, "reason": report.reason, "warnings": list(report.warnings),
    }


def _caps_text(caps: dict[str, Any]) -> str:
    words = []
    if caps["multiApp"]:
        words.append("multi-app")
    if caps["mutable"]:
        words.append("mutable")
    if caps["enter"]:
        words.append("enter")
    if caps["virtualized"]:
        words.append("vm")
    words.append("net=" + ",".join(caps["networkModes"]))
    if caps["isolators"]:
        words.append(f"isolators={len(caps['isolators'])}")
    return " ".join(words)


def _host_text(j: dict[str, Any]) -> str:
    if j["broken"]:
        return "broken: " + j["error"]
    if not j["canRun"]:
        return "no: " + j["reason"]
    return "; warning: ".join(["yes", *j["warnings"]])


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.config.stage1 import default_flavor
    from rkt.paths import DataDir
    from rkt.stage1.report import survey
    from rkt_sdk.errors import RktError

    try:
        default = default_flavor(gopts.config_dirs)
    except RktError as e:
        sys.stderr.write(f"flavors: warning: {e}\n")
        default = ""
    reports = [to_json(r, default) for r in survey(DataDir(gopts.dir).cache, gopts.config_dirs)]
    if args.format:
        sys.stdout.write(json.dumps(reports, indent=2 if args.format == "json-pretty" else None) + "\n")
        return 0
    from rkt.cli import table

    rows: list[list[str]] = []
    if not args.no_legend:
        rows.append(["NAME", "DISTRIBUTION", "VERSION", "INTERFACE", "CAPABILITIES", "CAN RUN HERE"])
    for j in reports:
        name = j["name"] + (" *" if j["default"] else "")
        if j["broken"]:
            rows.append([name, j["distribution"], j["distributionVersion"], "-", "-", _host_text(j)])
        else:
            rows.append([name, j["distribution"], j["version"], str(j["interfaceVersion"]),
                         _caps_text(j["capabilities"]), _host_text(j)])
    sys.stdout.write(table.render(rows))
    if not args.no_legend and reports:
        sys.stdout.write(f"\n* default flavor{'' if default else ' (none: the stage1 config is malformed)'}\n")
    return 0
