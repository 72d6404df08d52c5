"""Resolve an app's user and group, given as names or numbers, against the image's own files.

rkt looked names up in the app's ``/etc/passwd`` and ``/etc/group`` (never the host's),
and also accepted ``/path/to/file`` to take the owner of a file in the image.
"""

from __future__ import annotations

import os
from pathlib import Path

from rkt_sdk.errors import RktError
from rkt_sdk.linux.mount import resolve_in_root
from rkt_sdk.record import Record


class CredentialsError(RktError):
    """A user or group could not be resolved in the image."""


class Credentials(Record):
    """The uid, gid and supplementary gids an app runs with, and its home directory."""

    uid: int
    gid: int
    groups: tuple[int, ...] = ()
    home: str = "/root"
    user_name: str = ""


def _read(root: Path, name: str) -> list[list[str]]:
    try:
        text = resolve_in_root(root, f"/etc/{name}").read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def _owner(root: Path, spec: str, which: str, app: str) -> int:
    try:
        st = os.stat(resolve_in_root(root, spec))
    except OSError:
        raise CredentialsError(f"app {app!r}: {which} {spec!r}: no such file in the image") from None
    return st.st_uid if which == "user" else st.st_gid


def resolve(root: Path, user: str, group: str, supplementary: tuple[int, ...] = (), app: str = "") -> Credentials:
    """Resolve ``user`` and ``group`` (names, numbers or image paths) in the image at ``root``.

    Supplementary groups are the explicit ``supplementary`` gids plus the groups of
    ``/etc/group`` that list the user by name.
    """
    passwd = _read(root, "passwd")
    home = "/"
    name = ""
    if user.isdigit():
        uid = int(user)
        for e in passwd:
            if len(e) > 5 and e[2] == user:
                home, name = e[5], e[0]
                break
    elif user.startswith("/"):
        uid = _owner(root, user, "user", app)
    else:
        for e in passwd:
            if e[0] == user and len(e) > 5:
                uid, home, name = int(e[2]), e[5], user
                break
        else:
            raise CredentialsError(f"app {app!r}: user {user!r} not found in the image's /etc/passwd")
    groups_db = _read(root, "group")
    if group.isdigit():
        gid = int(group)
    elif group.startswith("/"):
        gid = _owner(root, group, "group", app)
    else:
        for e in groups_db:
            if e[0] == group and len(e) > 2:
                gid = int(e[2])
                break
        else:
            raise CredentialsError(f"app {app!r}: group {group!r} not found in the image's /etc/group")
    extra = list(supplementary)
    if name:
        for e in groups_db:
            if len(e) > 3 and name in e[3].split(",") and e[2].isdigit() and int(e[2]) not in extra:
                extra.append(int(e[2]))
    return Credentials(uid, gid, tuple(extra), home or "/", name)
