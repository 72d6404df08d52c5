"""Docker credential helpers: ``docker-credential-NAME get`` with the server on stdin.

A Docker config names them per registry (``"credHelpers": {"host": "NAME"}``) or for every
registry (``"credsStore": "NAME"``). The helper answers ``{"Username": ..., "Secret": ...}``,
or fails with "credentials not found" when it has nothing for that server. A helper that is
not installed is warned about and skipped (anonymous access may still do).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from rkt.images.registry.errors import AuthError
from rkt.images.registry.login import RegistryCredentials

#: The server name Docker gives its helpers for Docker Hub.
DOCKER_HUB_SERVER = "https://index.docker.io/v1/"


def from_helper(name: str, server: str, config: Path) -> RegistryCredentials | None:
    """Ask ``docker-credential-NAME`` (named in ``config``) for ``server``; None when it has none."""
    program = f"docker-credential-{name}"
    exe = shutil.which(program)
    if exe is None:  # as with a config copied from another machine: go on without credentials
        import sys

        sys.stderr.write(f'warning: {config}: credential helper "{program}" is not installed (not found in '
                         "PATH); going on without credentials\n")
        return None
    try:
        p = subprocess.run([exe, "get"], input=server.encode(), capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise AuthError(f'{config}: credential helper "{program}" failed: {e}') from None
    if p.returncode != 0:
        said = (p.stdout or p.stderr).decode("utf-8", "replace").strip()
        if "credentials not found" in said.lower():
            return None
        first = said.splitlines()[0] if said else f"exit status {p.returncode}"
        raise AuthError(f'{config}: credential helper "{program}" failed for {server}: {first}')
    try:
        doc = json.loads(p.stdout)
        user, secret = str(doc["Username"]), str(doc["Secret"])
    except (ValueError, KeyError, TypeError):
        raise AuthError(f'{config}: credential helper "{program}" answered something that is not '
                        "{\"Username\": ..., \"Secret\": ...}") from None
    if not user:
        return None
    source = f"{config}, through {program}"
    if user == "<token>":  # an identity token (an OAuth2 refresh token), not a password
        return RegistryCredentials(user, "", source, secret)
    return RegistryCredentials(user, secret, source)
