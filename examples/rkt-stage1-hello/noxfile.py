"""Developer tasks of the hello flavor: `nox -s conformance` (as root, on a host with rkt)."""

from __future__ import annotations

import nox


@nox.session(venv_params=["--system-site-packages"])
def conformance(session: nox.Session) -> None:
    """Install the flavor beside rkt and run its tests with the rkt_sdk conformance kit."""
    session.install(".")
    session.run("pytest", "--rkt-flavor=hello", *session.posargs)
