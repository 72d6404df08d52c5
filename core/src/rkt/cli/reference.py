"""``docs/commands.md``: every command and flag with an example, rendered from the CLI's declarations.

Regenerate with ``python -m rkt.cli.reference > docs/commands.md``; a test fails when the file
and the declarations differ.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.cli.commands import Declared
    from rkt.cli.options import Flag

HEADER = """\
# rkt commands

Generated from the CLI's own declarations by `python -m rkt.cli.reference > docs/commands.md`
(a test keeps this file current). Flags take `--flag=VALUE` or `--flag VALUE`; a flag shown as
`--flag[=VALUE]` takes its value only after `=`, and alone means `--flag=<its bare value>` (every
boolean: `--no-overlay`, `--no-overlay=true`, `--no-overlay=false`). `rkt help COMMAND` or
`rkt COMMAND --help` prints the same.

"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _flag_name(f: Flag) -> str:
    if f.kind == "bool":
        return f"`{f.name}[=true\\|false]`"
    if f.bare is not None:
        return f"`{f.name}[={_cell(f.metavar or 'VALUE')}]`"
    return f"`{f.name}={_cell(f.metavar or f.dest.upper())}`"


def _default(f: Flag) -> str:
    if f.kind == "bool":
        return "true" if f.default else "false"
    if f.kind == "list" or f.initial in ("", None):
        return ""
    return f"`{f.initial}`"


def _flags_table(flags: tuple[Flag, ...]) -> list[str]:
    shown = [f for f in flags if not f.hidden]
    if not shown:
        return []
    lines = ["| flag | meaning | default |", "|---|---|---|"]
    for f in shown:
        what = f.help + (f" (one of: {', '.join(c for c in f.choices if c)})" if f.choices else "")
        what += " (repeatable)" if f.kind == "list" else ""
        lines.append(f"| {_flag_name(f)} | {_cell(what)} | {_default(f)} |")
    return [*lines, ""]


def _section(d: Declared, level: str) -> list[str]:
    from rkt.cli.parser import usage_line

    out = [f"{level} rkt {d.name}", "", d.summary + ".", ""]
    if not d.subcommands:
        out += ["```", usage_line(f"rkt {d.name}", d.flags, d.args), "```", ""]
    for a in d.args:
        meta = a.metavar or a.name.upper()
        choices = f" (one of: {', '.join(a.choices)})" if a.choices else ""
        out.append(f"- `{meta}`: {a.help}{choices}")
    if d.args:
        out.append("")
    out += _flags_table(d.flags)
    if d.example:
        out += ["Example:", "", "```sh", d.example, "```", ""]
    for sub in d.subcommands:
        out += _section(sub, level + "#")
    return out


def render() -> str:
    """The whole of ``docs/commands.md``."""
    from rkt.cli.commands import COMMANDS, declared
    from rkt.cli.context import GLOBAL_FLAGS

    out = [HEADER.rstrip("\n"), "", "## Global options", "",
           "Given before or after the command name (for `enter`, before the command to run).", ""]
    out += _flags_table(GLOBAL_FLAGS)
    out += ["## Commands", ""]
    out += [f"- [`rkt {n}`](#rkt-{n}): {s}" for n, (_, s) in COMMANDS.items()]
    out.append("")
    for name in COMMANDS:
        out += _section(declared(name), "##")
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(render())
