"""Global options (``--dir``, ``--debug``, config dirs, ``--insecure-options``)."""

from __future__ import annotations

import os
from pathlib import Path

from rkt.cli.options import Flag, bool_flag, boolean
from rkt_sdk.record import Record, replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

INSECURE_OPTIONS = {"none", "image", "tls", "ondisk", "http", "pubkey", "capabilities", "paths",
                    "seccomp", "run-as-root", "all-fetch", "all-run", "all"}
#: the options before (or after) the command name, as ``rkt --help`` lists them
GLOBAL_FLAGS = (
    bool_flag("--debug", "print out more debug information to stderr"),
    Flag("--dir", "rkt data directory (default /var/lib/rkt)", metavar="DIR"),
    Flag("--insecure-options", "comma-separated list of security features to disable (none, image, tls, ondisk, "
         "http, pubkey, capabilities, paths, seccomp, run-as-root, all-fetch, all-run, all)", metavar="LIST"),
    Flag("--local-config", "local configuration directory (default /etc/rkt)", metavar="DIR"),
    Flag("--system-config", "system configuration directory (default /usr/lib/rkt)", metavar="DIR"),
    Flag("--user-config", "user configuration directory", metavar="DIR"),
    bool_flag("--trust-keys-from-https", "automatically trust gpg keys that appc discovery finds over https"),
)
#: the global flags that take a value
VALUE_FLAGS = tuple(f.name for f in GLOBAL_FLAGS if f.bare is None)
_EXPAND = {"all-fetch": {"image", "tls", "http", "pubkey"},
           "all-run": {"capabilities", "paths", "seccomp", "run-as-root"}}


class GlobalOptions(Record):
    """Options that come before the command name (immutable).

    Fields: ``dir`` (data directory), ``debug``, ``insecure_options``, ``local_config``,
    ``system_config``, ``user_config`` (or None), ``explicit`` (names of the flags given),
    ``trust_keys_from_https`` (trust keys that discovery finds over HTTPS).
    """

    dir: Path = Path("/var/lib/rkt")
    debug: bool = False
    insecure_options: frozenset[str] = frozenset()
    local_config: Path = Path("/etc/rkt")
    system_config: Path = Path("/usr/lib/rkt")
    user_config: Path | None = None
    explicit: frozenset[str] = frozenset()
    trust_keys_from_https: bool = False

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


def parse_global(argv: list[str], verbatim: Callable[[str, list[str], int], int] | None = None
                 ) -> tuple[GlobalOptions, list[str]]:
    """Split leading global options from the command and its arguments.

    Global options may also follow the command name (rkt accepted both); they are
    recognised anywhere before a ``--``, and before the index ``verbatim(command, argv, i)`` gives
    (``i``: the index after the command name; ``enter``'s command keeps its flags). The data
    directory is ``--dir``, else ``$RKT_DIR``, else what ``paths.d`` sets, else ``/var/lib/rkt``.

    :raises ValueError: a malformed global flag.
    :raises rkt.config.errors.ConfigError: a malformed ``paths.d`` file.
    """
    values, rest = _scan_global(argv, verbatim)
    opts = _global_options(values)
    if "dir" not in values and not os.environ.get("RKT_DIR"):
        configured = configured_data_dir(opts.config_dirs)
        if configured is not None:
            opts = replace(opts, dir=configured)
    return opts, rest


def _scan_global(argv: list[str], verbatim: Callable[[str, list[str], int], int] | None
                 ) -> tuple[dict[str, object], list[str]]:
    """(the global flags found, by field name, raw; everything else in order), as :func:`parse_global` reads them."""
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
            values["debug"] = boolean("--debug", val) if eq else True
        elif key == "--trust-keys-from-https":
            values["trust_keys_from_https"] = val.lower() not in ("false", "0") if eq else True
        else:
            rest.append(a)
        i += 1
    return values, rest + argv[i:]


def _global_options(values: dict[str, object]) -> GlobalOptions:
    """The options the scanned ``values`` give, with ``$RKT_DIR`` and the user config dir's default."""
    env_dir = os.environ.get("RKT_DIR")
    kw: dict[str, object] = {}
    if "dir" in values or env_dir:
        kw["dir"] = Path(str(values.get("dir", env_dir))).absolute()
    for flag in ("debug", "trust_keys_from_https"):
        if flag in values:
            kw[flag] = values[flag]
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
    return GlobalOptions(**kw)  # type: ignore[arg-type]


def configured_data_dir(config_dirs: tuple[Path, ...]) -> Path | None:
    """The data directory the ``paths.d`` config sets, or None (only existing ``paths.d`` dirs are read).

    Precedence: ``--dir``, then ``$RKT_DIR``, then this, then ``/var/lib/rkt``.

    :raises rkt.config.errors.ConfigError: a ``paths.d`` file is malformed (naming it and the field).
    """
    if not any(os.path.isdir(d / "paths.d") for d in config_dirs):
        return None
    from rkt.config.paths import configured_data_dir as from_config

    return from_config(config_dirs)
