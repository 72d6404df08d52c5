"""The size rules over every source tree: no file over 400 lines, no function over 60.

Small modules that hold one idea and short functions are house rules (STYLE.md); this keeps
them from drifting as features land. A function's length counts from its ``def`` line
(decorators excluded) to its last line, docstring included.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "core" / "src", ROOT / "plugin_sdk" / "src", *sorted((ROOT / "flavors").glob("*/src"))]
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _files() -> list[Path]:
    return sorted(p for root in SOURCES for p in root.rglob("*.py"))


def test_the_source_trees_are_found() -> None:
    assert len(SOURCES) >= 6 and all(r.is_dir() for r in SOURCES), SOURCES
    assert len(_files()) > 100


def _oversize(path: Path, root: Path = ROOT) -> list[str]:
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(root)
    out = []
    lines = text.count("\n")
    if lines > MAX_FILE_LINES:
        out.append(f"{where}: {lines} lines (at most {MAX_FILE_LINES})")
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                out.append(f"{where}:{node.lineno}: {node.name} is {length} lines (at most {MAX_FUNCTION_LINES})")
    return out


def test_no_source_file_or_function_is_over_the_limits() -> None:
    found = [msg for p in _files() for msg in _oversize(p)]
    assert found == [], "\n".join(found)


def test_the_check_sees_a_long_function_and_a_long_file(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "long.py").write_text("def f():\n" + body + "\n" * MAX_FILE_LINES)
    found = _oversize(tmp_path / "long.py", tmp_path)
    assert found == [f"long.py: {MAX_FUNCTION_LINES + 1 + MAX_FILE_LINES} lines (at most {MAX_FILE_LINES})",
                     f"long.py:1: f is {MAX_FUNCTION_LINES + 1} lines (at most {MAX_FUNCTION_LINES})"]
