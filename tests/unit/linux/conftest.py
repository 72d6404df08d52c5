"""Helpers of the rkt_sdk.linux tests: run a function in a forked child (so namespaces,
capabilities and seccomp filters it sets die with it) and collect what it returns."""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable
from typing import Any

import pytest


def in_child(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Run ``fn`` in a forked child; return (the child's exit code or -signal, fn's JSON-able result)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            out = json.dumps({"ok": fn()})
        except BaseException:  # report anything to the parent
            out = json.dumps({"error": traceback.format_exc()})
            code = 1
        os.write(w, out.encode())
        os._exit(code)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if not data:
        return code, None
    result = json.loads(data)
    if "error" in result:
        raise AssertionError(f"child failed:\n{result['error']}")
    return code, result["ok"]


@pytest.fixture
def root_only() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
