"""The environment an app's process starts with.

The pod manifest already holds the app's environment after rkt's precedence rules; a
flavor adds what rkt's stage1 always provided when the manifest does not set it:
``PATH``, ``HOME``, ``USER``, ``LOGNAME``, ``SHELL``, ``TERM`` (if the caller has a
terminal) and ``AC_APP_NAME``.
"""

from __future__ import annotations

import os

from rkt_sdk.appc import RuntimeApp
from rkt_sdk.linux.creds import Credentials

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def app_environ(app: RuntimeApp, creds: Credentials | None = None) -> dict[str, str]:
    """The final environment of ``app`` run with ``creds``."""
    env = {"PATH": DEFAULT_PATH, "AC_APP_NAME": app.name}
    if creds is not None:
        env["HOME"] = creds.home or "/"
        if creds.user_name:
            env["USER"] = env["LOGNAME"] = creds.user_name
        env["SHELL"] = "/bin/sh"
    term = os.environ.get("TERM")
    if term:
        env["TERM"] = term
    env.update(app.app.env_dict())
    return env
