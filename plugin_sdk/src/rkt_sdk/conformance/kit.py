"""What a conformance test works with (:class:`Kit`, the ``kit`` fixture of the plugin) and :func:`expect`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rkt_sdk.conformance.driver import Result, RktDriver


@dataclass(frozen=True)
class Kit:
    """What a conformance test works with: rkt on a fresh data dir, the images, the flavor and its claims."""

    rkt: RktDriver
    images: dict[str, Path]
    flavor: str
    caps: dict[str, Any]
    net_flags: list[str]

    @property
    def pod_flags(self) -> list[str]:
        """``--stage1-name`` and a ``--net`` needing no network set-up."""
        return [f"--stage1-name={self.flavor}", *self.net_flags]

    def run(self, *args: str) -> Result:
        return self.rkt("--insecure-options=image", "run", *args)

    def run_app(self, script: str, *args: str, pod: tuple[str, ...] = (), app: tuple[str, ...] = ()) -> Result:
        """``rkt run [pod flags] main-image --exec=/bin/sh [app] -- -c SCRIPT sh ARGS...``."""
        return self.run(*self.pod_flags, *pod, str(self.images["main"]), "--exec=/bin/sh", *app,
                        "--", "-c", script, "sh", *args)


def expect(r: Result, code: int = 0) -> Result:
    assert r.returncode == code, f"expected exit code {code}\n{r.describe()}"
    return r
