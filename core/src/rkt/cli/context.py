"""Global options (``--dir``, ``--debug``, config dirs, ``--insecure-options``)."""

from __future__ import annotations

import os
from pathlib import Path

from rkt.cli.globalflags import INSECURE_OPTIONS, VALUE_FLAGS, parse_insecure, scan_global
from rkt.cli.globalflags import config_dirs as config_dir_names
from rkt.cli.globalflags import data_dir as data_dir_name
from rkt.cli.options import Flag, bool_flag
from rkt_sdk.record import Record, replace

__all__ = ["GLOBAL_FLAGS", "INSECURE_OPTIONS", "VALUE_FLAGS", "GlobalOptions", "parse_global", "parse_insecure"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

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
    values, rest = scan_global(argv, verbatim)
    opts = _global_options(values)
    if "dir" not in values and not os.environ.get("RKT_DIR"):
        configured = configured_data_dir(opts.config_dirs)
        if configured is not None:
            opts = replace(opts, dir=configured)
    return opts, rest


def _global_options(values: dict[str, object]) -> GlobalOptions:
    """The options the scanned ``values`` give (see :mod:`rkt.cli.globalflags` for the defaults)."""
    kw: dict[str, object] = {}
    data = data_dir_name(values)
    if data is not None:
        kw["dir"] = Path(data)
    for flag in ("debug", "trust_keys_from_https"):
        if flag in values:
            kw[flag] = values[flag]
    if "insecure_options" in values:
        kw["insecure_options"] = parse_insecure(str(values["insecure_options"]))
    system, local, *user = config_dir_names(values)
    kw["system_config"], kw["local_config"] = Path(system), Path(local)
    if user:
        kw["user_config"] = Path(user[0])
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
