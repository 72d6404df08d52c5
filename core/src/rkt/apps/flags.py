"""Parsing the values of rkt's pod and app flags (``--volume``, ``--mount``, ``--port`` ...).

Each parser raises :class:`FlagError` naming the flag and the value.
"""

from __future__ import annotations

import re

from rkt_sdk.appc import KV, Isolator, Mount, PodPort, Volume, validate_ac_name
from rkt_sdk.errors import ManifestError, RktError

# patterns, compiled (and cached by re) the first time a flag needs one, not when 'rkt app add' loads this
_ENV = r"^[A-Za-z_][A-Za-z0-9_]*$"
_MEM = r"^\d+(\.\d+)?([KMGT]i?)?$"
_MAX_ENV_FILE = 1 << 20
_CPU = r"^\d+(\.\d+)?m?$"


class FlagError(RktError):
    """A flag's value is malformed."""


def _kv_list(flag: str, value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in value.split(","):
        k, eq, v = part.partition("=")
        if not eq:
            raise FlagError(f"--{flag}={value}: {part!r} is not a key=value pair")
        out[k.strip()] = v
    return out


def _bool(flag: str, value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no", ""):
        return False
    raise FlagError(f"--{flag}: {value!r} is not a boolean")


def env_pair(flag: str, value: str) -> KV:
    """``NAME=VALUE`` for ``--set-env`` and ``--environment``."""
    name, eq, val = value.partition("=")
    if not eq or not re.match(_ENV, name):
        raise FlagError(f'--{flag}={value}: expected NAME=VALUE with a valid variable name')
    return KV(name, val)


def env_file(path: str) -> tuple[KV, ...]:
    """A ``--set-env-file``: NAME=VALUE lines; lines starting with ``#`` or ``;`` and blank ones skipped."""
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_ENV_FILE + 1)
    except OSError as e:
        raise FlagError(f"--set-env-file={path}: {e.strerror}") from None
    if len(raw) > _MAX_ENV_FILE:
        raise FlagError(f"--set-env-file={path}: larger than {_MAX_ENV_FILE} bytes")
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise FlagError(f"--set-env-file={path}: not UTF-8 text") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        name, eq, val = line.partition("=")
        if not eq or not re.match(_ENV, name.strip()):
            raise FlagError(f"--set-env-file={path}: line {n}: expected NAME=VALUE")
        out.append(KV(name.strip(), val))
    return tuple(out)


def volume(value: str) -> Volume:
    """``NAME,kind=host,source=/path[,readOnly=true][,recursive=true]`` or ``NAME,kind=empty[,mode=,uid=,gid=]``."""
    name, _, rest = value.partition(",")
    opts = _kv_list("volume", rest) if rest else {}
    kind = opts.pop("kind", "")
    if kind not in ("host", "empty"):
        raise FlagError(f'--volume={value}: kind must be "host" or "empty"')
    raw: dict[str, object] = {"name": name, "kind": kind}
    if "source" in opts:
        raw["source"] = opts.pop("source")
    if "readOnly" in opts:
        raw["readOnly"] = _bool("volume", opts.pop("readOnly"))
    if "recursive" in opts:
        raw["recursive"] = _bool("volume", opts.pop("recursive"))
    for k in ("mode", "uid", "gid"):
        if k in opts:
            v = opts.pop(k)
            if k != "mode" and not v.isdigit():
                raise FlagError(f"--volume={value}: {k} must be a number")
            raw[k] = v if k == "mode" else int(v)
    if opts:
        raise FlagError(f"--volume={value}: unknown option {next(iter(opts))!r}")
    try:
        return Volume.from_dict(raw, f"--volume={value}")
    except ManifestError as e:
        raise FlagError(str(e)) from None


#: the largest user or group id (2**32 - 2; 2**32 - 1 is the kernel's "no id")
MAX_ID = 4294967294


def user_or_group(flag: str, value: str) -> str:
    """``--user``/``--group``: a name, a path in the image, or a number no larger than :data:`MAX_ID`."""
    if value.isdigit() and int(value) > MAX_ID:
        raise FlagError(f"--{flag}={value}: ids go up to {MAX_ID}")
    return value


def app_name(value: str) -> str:
    """``--name``: an AC name (lower-case letters, digits, ``-``, ``.``, ``/``... as appc defines)."""
    try:
        validate_ac_name(value, f"--name={value}")
    except ManifestError as e:
        raise FlagError(str(e)) from None
    return value


def mount(value: str) -> Mount:
    """``volume=NAME,target=PATH``."""
    opts = _kv_list("mount", value)
    if set(opts) != {"volume", "target"}:
        raise FlagError(f"--mount={value}: expected volume=NAME,target=PATH")
    if not opts["target"].startswith("/"):
        raise FlagError(f"--mount={value}: target must be an absolute path")
    try:
        validate_ac_name(opts["volume"], f"--mount={value}")
    except ManifestError as e:
        raise FlagError(str(e)) from None
    return Mount(opts["volume"], opts["target"])


def port(value: str) -> PodPort:
    """``NAME:[HOSTIP:]HOSTPORT``."""
    parts = value.split(":")
    if len(parts) not in (2, 3) or not parts[-1].isdigit():
        raise FlagError(f"--port={value}: expected NAME:[HOSTIP:]HOSTPORT")
    hp = int(parts[-1])
    if not 1 <= hp <= 65535:
        raise FlagError(f"--port={value}: host port must be in 1..65535")
    return PodPort(parts[0], hp, parts[1] if len(parts) == 3 else "")


def memory(value: str) -> Isolator:
    if not re.match(_MEM, value):
        raise FlagError(f"--memory={value}: expected a size such as 64M or 1G")
    return Isolator("resource/memory", {"limit": value})


def cpu(value: str) -> Isolator:
    if not re.match(_CPU, value):
        raise FlagError(f"--cpu={value}: expected CPUs such as 500m or 2")
    return Isolator("resource/cpu", {"limit": value})


def cpu_shares(value: str) -> Isolator:
    if not value.isdigit() or int(value) < 2:
        raise FlagError(f"--cpu-shares={value}: expected an integer of at least 2")
    return Isolator("os/linux/cpu-shares", int(value))


def oom_score_adj(value: str) -> Isolator:
    try:
        n = int(value)
    except ValueError:
        n = 9999
    if not -1000 <= n <= 1000:
        raise FlagError(f"--oom-score-adj={value}: expected an integer in -1000..1000")
    return Isolator("os/linux/oom-score-adj", n)


def caps(flag: str, value: str) -> Isolator:
    items = [c.strip().upper() for c in value.split(",") if c.strip()]
    for c in items:
        if not re.match(r"^CAP_[A-Z_]+$", c):
            raise FlagError(f"--{flag}={value}: {c!r} is not a capability name such as CAP_NET_ADMIN")
    name = "os/linux/capabilities-retain-set" if flag == "caps-retain" else "os/linux/capabilities-remove-set"
    return Isolator(name, {"set": items})


def seccomp(value: str) -> Isolator:
    """``mode=retain|remove[,errno=ENAME],syscall,...``."""
    mode = ""
    errno = ""
    calls: list[str] = []
    for part in value.split(","):
        k, eq, v = part.partition("=")
        if eq and k == "mode":
            mode = v
        elif eq and k == "errno":
            errno = v
        elif not eq and part:
            calls.append(part)
        else:
            raise FlagError(f"--seccomp={value}: unexpected {part!r}")
    if mode not in ("retain", "remove"):
        raise FlagError(f"--seccomp={value}: mode must be retain or remove")
    if not calls:
        raise FlagError(f"--seccomp={value}: no syscalls given")
    body: dict[str, object] = {"set": calls}
    if errno:
        body["errno"] = errno
    return Isolator(f"os/linux/seccomp-{mode}-set", body)


def annotation(flag: str, value: str) -> KV:
    k, eq, v = value.partition("=")
    if not eq or not k:
        raise FlagError(f"--{flag}={value}: expected NAME=VALUE")
    return KV(k, v)
