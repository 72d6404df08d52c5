"""docs/commands.md is what the CLI's declarations render, and every command has an example."""

from __future__ import annotations

from pathlib import Path

from rkt.cli.commands import COMMANDS, declared
from rkt.cli.reference import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "commands.md"


def test_commands_md_is_current() -> None:
    assert DOC.read_text() == render(), "regenerate: python -m rkt.cli.reference > docs/commands.md"


def test_every_command_has_an_example_and_every_shown_flag_is_documented() -> None:
    text = DOC.read_text()
    for name in COMMANDS:
        d = declared(name)
        assert d.example.startswith(("rkt ", "source ")), name
        assert f"## rkt {name}\n" in text
        section = text.split(f"## rkt {name}\n", 1)[1].split("\n## rkt ", 1)[0]
        for f in d.flags:
            assert (f"`{f.name}=" in section or f"`{f.name}[" in section) != f.hidden, (name, f.name)
