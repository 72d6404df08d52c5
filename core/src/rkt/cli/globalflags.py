"""The global flags (``--dir``, ``--debug``, config dirs, ``--insecure-options``) as words and strings.

Lean on purpose (no :mod:`pathlib`): the fast paths that run before a command's module is
loaded (see :mod:`rkt.cli.quick`) read the data directory and config dirs from here;
:mod:`rkt.cli.context` builds :class:`~rkt.cli.context.GlobalOptions` from the same values.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_DATA_DIR = "/var/lib/rkt"
DEFAULT_LOCAL_CONFIG = "/etc/rkt"
DEFAULT_SYSTEM_CONFIG = "/usr/lib/rkt"
INSECURE_OPTIONS = {"none", "image", "tls", "ondisk", "http", "pubkey", "capabilities", "paths",
                    "seccomp", "run-as-root", "all-fetch", "all-run", "all"}
#: the global flags that take a value (:data:`rkt.cli.context.GLOBAL_FLAGS` declares them all; a test
#: keeps the two in step): spelled out so that the fast paths load no flag declarations
VALUE_FLAGS = ("--dir", "--insecure-options", "--local-config", "--system-config", "--user-config")
_EXPAND = {"all-fetch": {"image", "tls", "http", "pubkey"},
           "all-run": {"capabilities", "paths", "seccomp", "run-as-root"}}


def parse_insecure(value: str) -> frozenset[str]:
    """The security features ``--insecure-options=value`` disables (``all``, ``all-fetch``, ``all-run`` expanded).

    :raises ValueError: an unknown name.
    """
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


def scan_global(argv: list[str], verbatim: Callable[[str, list[str], int], int] | None
                ) -> tuple[dict[str, object], list[str]]:
    """(the global flags found, by field name, raw; everything else in order).

    As :func:`rkt.cli.context.parse_global` reads them: anywhere before a ``--``, and before
    the index ``verbatim(command, argv, i)`` gives.

    :raises ValueError: a value flag without its value, or a malformed ``--debug=``.
    """
    values: dict[str, object] = {}
    rest: list[str] = []
    i = 0
    end = len(argv)
    while i < end:
        a = argv[i]
        if a == "--":
            break
        if verbatim is not None and not rest and not a.startswith("-"):
            end = verbatim(a, argv, i + 1)
        key, eq, val = a.partition("=")
        if key in VALUE_FLAGS:
            if not eq:
                if i + 1 >= len(argv):
                    raise ValueError(f"flag needs an argument: {key}")
                val = argv[i + 1]
                i += 1
            values[key[2:].replace("-", "_")] = val
        elif key == "--debug":
            from rkt.cli.options import boolean

            values["debug"] = boolean("--debug", val) if eq else True
        elif key == "--trust-keys-from-https":
            values["trust_keys_from_https"] = val.lower() not in ("false", "0") if eq else True
        else:
            rest.append(a)
        i += 1
    return values, rest + argv[i:]


def data_dir(values: dict[str, object]) -> str | None:
    """The data directory ``--dir`` or ``$RKT_DIR`` names (absolute), or None (then ``paths.d``, then the default)."""
    given = values["dir"] if "dir" in values else os.environ.get("RKT_DIR")
    return os.path.abspath(str(given)) if given is not None and (given or "dir" in values) else None


def config_dirs(values: dict[str, object]) -> tuple[str, ...]:
    """The config directories (absolute) from lowest to highest precedence: system, local, and user if any.

    The user config dir defaults to ``$XDG_CONFIG_HOME/rkt`` (or ``~/.config/rkt``) for a user other than root.
    """
    dirs = [os.path.abspath(str(values.get("system_config", DEFAULT_SYSTEM_CONFIG))),
            os.path.abspath(str(values.get("local_config", DEFAULT_LOCAL_CONFIG)))]
    if "user_config" in values:
        dirs.append(os.path.abspath(str(values["user_config"])))
    else:
        home = os.environ.get("XDG_CONFIG_HOME") or (
            os.path.join(os.environ["HOME"], ".config") if "HOME" in os.environ else None)
        if home and os.geteuid() != 0:
            dirs.append(os.path.join(home, "rkt"))
    return tuple(dirs)
