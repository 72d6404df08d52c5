"""``rktKind: paths``: where rkt keeps its data (``paths.d/*.json``).

Fields (``rktVersion: v1``): ``data``, an absolute path, default ``/var/lib/rkt``; rkt's
``stage1-images`` is accepted with a one-line notice that it has no effect (flavors are Python
distributions). A later
layer overrides an earlier one field by field; two files of the same layer setting the
same field are an error. ``--dir`` (and ``RKT_DIR``) override the config.
"""

from __future__ import annotations

from pathlib import Path

from rkt.config import files
from rkt.config.errors import ConfigError
from rkt_sdk.record import Record

SUBDIR = "paths.d"
KIND = "paths"
DEFAULT_DATA = Path("/var/lib/rkt")
_FIELDS = {"data", "stage1-images"}
_noticed: set[Path] = set()


class PathsConfig(Record):
    """The merged ``paths`` config: the data directory and the file that set it (``None``: default)."""

    data: Path = DEFAULT_DATA
    data_source: Path | None = None

    def to_entry(self, data_override: Path | None = None) -> dict[str, object]:
        """The entry ``rkt config`` prints; ``data_override`` is the effective ``--dir``."""
        return {"rktVersion": files.VERSION, "rktKind": KIND, "data": str(data_override or self.data)}


def load_paths(config_dirs: tuple[Path, ...]) -> PathsConfig:
    """Merge every ``paths`` document of the config dirs."""
    result = PathsConfig()
    set_by: dict[tuple[int, str], Path] = {}
    for doc in files.load(config_dirs, SUBDIR, (KIND,)):
        files.check_fields(doc, _FIELDS)
        if "stage1-images" in doc.data and doc.path not in _noticed:
            import sys

            _noticed.add(doc.path)
            sys.stderr.write(f'rkt: {doc.path}: "stage1-images" has no effect here (stage1 flavors are Python '
                             "distributions; see 'rkt flavors')\n")
        data = files.string_field(doc, "data")
        if data is None:
            continue
        if not data.startswith("/"):
            raise doc.field_error("data", f"must be an absolute path, got {data!r}")
        other = set_by.get((doc.layer, "data"))
        if other is not None:
            raise ConfigError(f'{doc.path}: field "data": already set in {other} of the same config directory')
        set_by[(doc.layer, "data")] = doc.path
        result = PathsConfig(Path(data), doc.path)
    return result


def configured_data_dir(config_dirs: tuple[Path, ...]) -> Path | None:
    """The data directory the config files set, or ``None`` when none sets one."""
    p = load_paths(config_dirs)
    return p.data if p.data_source is not None else None
