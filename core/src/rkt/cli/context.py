"""Global options (``--dir``, ``--debug``, config dirs, ``--insecure-options``)."""

from __future__ import annotations

import os
from collections import namedtuple
from pathlib import Path

INSECURE_OPTIONS = {"none", "image", "tls", "ondisk", "http", "pubkey", "capabilities", "paths",
                    "seccomp", "run-as-root", "all-fetch", "all-run", "all"}
_EXPAND = {"all-fetch": {"image", "tls", "http", "pubkey"},
           "all-run": {"capabilities", "paths", "seccomp", "run-as-root"}}


_GlobalOptions = namedtuple("_GlobalOptions",
                            "dir debug insecure_options local_config system_config user_config explicit",
                            defaults=(Path("/var/lib/rkt"), False, frozenset(), Path("/etc/rkt"), Path("/usr/lib/rkt"),
                                      None, frozenset()))


class GlobalOptions(_GlobalOptions):
    """Options that come before the command name (immutable; a named tuple: no dataclasses on the hot path).

    Fields: ``dir`` (data directory), ``debug``, ``insecure_options``, ``local_config``,
    ``system_config``, ``user_config`` (or None), ``explicit`` (names of the flags given).
    """

    __slots__ = ()
    dir: Path
    debug: bool
    insecure_options: frozenset[str]
    local_config: Path
    system_config: Path
    user_config: Path | None
    explicit: frozenset[str]

    @property
    def config_dirs(self) -> tuple[Path, ...]:
        """Config directories from lowest to highest precedence."""
        dirs = [self.system_config, self.local_config]
        if self.user_config is not None:
            dirs.append(self.user_config)
        return tuple(dirs)


def parse_insecure(value: str) -> frozenset[str]:
    opts: set[str] = set()
    for item in filter(None, value.split(",")):
        if item not in INSECURE_OPTIONS:
            raise ValueError(f"bad --insecure-options value {item!r}; known: {', '.join(sorted(INSECURE_OPTIONS))}")
        if item == "all":
            for v in _EXPAND.values():
                opts |= v
            opts |= {"ondisk"}
        opts |= _EXPAND.get(item, {item})
    opts.discard("none")
    return frozenset(opts)


def parse_global(argv: list[str]) -> tuple[GlobalOptions, list[str]]:
    """Split leading global options from the command and its arguments.

    Global options may also follow the command name (rkt accepted both); they are
    recognised anywhere before a ``--``.
    """
    values: dict[str, object] = {}
    rest: list[str] = []
    it = iter(range(len(argv)))
    i = 0
    seen_dashdash = False
    while i < len(argv):
        a = argv[i]
        if seen_dashdash or a == "--":
            seen_dashdash = True
            rest.append(a)
            i += 1
            continue
        key, eq, val = a.partition("=")
        if key in ("--dir", "--insecure-options", "--local-config", "--system-config", "--user-config"):
            if not eq:
                if i + 1 >= len(argv):
                    raise ValueError(f"flag needs an argument: {key}")
                val = argv[i + 1]
                i += 1
            values[key[2:].replace("-", "_")] = val
        elif key == "--debug":
            values["debug"] = val.lower() not in ("false", "0") if eq else True
        elif key == "--trust-keys-from-https":
            pass
        else:
            rest.append(a)
        i += 1
    del it
    env_dir = os.environ.get("RKT_DIR")
    kw: dict[str, object] = {}
    if "dir" in values or env_dir:
        kw["dir"] = Path(str(values.get("dir", env_dir))).absolute()
    if "debug" in values:
        kw["debug"] = values["debug"]
    if "insecure_options" in values:
        kw["insecure_options"] = parse_insecure(str(values["insecure_options"]))
    for k in ("local_config", "system_config", "user_config"):
        if k in values:
            kw[k] = Path(str(values[k])).absolute()
    if "user_config" not in kw:
        home = os.environ.get("XDG_CONFIG_HOME") or (
            os.path.join(os.environ["HOME"], ".config") if "HOME" in os.environ else None)
        if home and os.geteuid() != 0:
            kw["user_config"] = Path(home) / "rkt"
    kw["explicit"] = frozenset(values)
    return GlobalOptions(**kw), rest  # type: ignore[arg-type]
