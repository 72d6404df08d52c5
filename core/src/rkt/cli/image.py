"""``rkt image list|rm|gc|cat-manifest|extract|render|export``: operate on the local store."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, Flag, bool_flag
from rkt.cli.parser import duration

if TYPE_CHECKING:
    from rkt.store import ImageRecord, Store

#: ``--fields`` names -> column titles, in rkt's default order.
FIELDS = {"id": "ID", "name": "NAME", "size": "SIZE", "importtime": "IMPORT TIME", "lastused": "LAST USED"}
DEFAULT_FIELDS = "id,name,size,importtime,lastused"
EXAMPLE = "rkt image list --fields=id,name,size"
IMAGE = Arg("image", "image id (or unique prefix) or name[:version]", metavar="IMAGE")
FORMAT = Flag("--format", "output format: json or json-pretty (default: a table)", choices=("", "json", "json-pretty"))
#: The description ``rkt image --help`` prints (the subcommands are listed below it).
DESCRIPTION = "Operate on image(s) in the local store"
#: subcommand -> (summary, positional arguments, flags)
SUBCOMMANDS: dict[str, tuple[str, tuple[Arg, ...], tuple[Flag, ...]]] = {
    "list": ("List images in the local store", (), (
        Flag("--fields", f"comma-separated list of fields to display, among {','.join(FIELDS)} "
             f"(default {DEFAULT_FIELDS})", default=DEFAULT_FIELDS),
        bool_flag("--full", "use long output format (full ids, absolute times, sizes in bytes)"),
        bool_flag("--no-legend", "suppress a legend with the list"),
        FORMAT,
        Flag("--sort", f"comma-separated fields to sort by, among {','.join(FIELDS)}", default="importtime"),
        Flag("--order", "sorting order (default asc)", default="asc", choices=("asc", "desc")))),
    "rm": ("Remove one or more images with the given IDs or image names from the local store",
           (Arg("images", "image id (or unique prefix) or name[:version]", nargs="+", metavar="IMAGE"),), ()),
    "gc": ("Garbage collect local store", (), (
        Flag("--grace-period", "duration to wait since an image was last used before removing it (default 24h0m0s)",
             default=24 * 3600.0, convert=duration, metavar="DURATION"),)),
    "cat-manifest": ("Inspect and print the image manifest", (IMAGE,),
                     (bool_flag("--pretty-print", "apply indent to format the output", default=True),)),
    "extract": ("Extract a stored image to a directory", (IMAGE, Arg("dest", "directory to create", metavar="DEST")),
                (bool_flag("--overwrite", "overwrite the output directory"),
                 bool_flag("--rootfs-only", "extract the rootfs only"))),
    "render": ("Render a stored image to a directory with all its dependencies",
               (IMAGE, Arg("dest", "directory to create", metavar="DEST")),
               (bool_flag("--overwrite", "overwrite the output directory"),
                bool_flag("--rootfs-only", "extract the rootfs only"))),
    "export": ("Export a stored image to an ACI file",
               (IMAGE, Arg("dest", "ACI file to write (uncompressed)", metavar="FILE")),
               (bool_flag("--overwrite", "overwrite the output ACI"),)),
    "verify": ("Check stored images' signatures against the keys trusted today",
               (Arg("images", "image id (or unique prefix) or name[:version]", nargs="+", metavar="IMAGE"),), ()),
}


def add_arguments(p: argparse.ArgumentParser, command: str) -> None:
    """The subcommands, each from its declarations in :data:`SUBCOMMANDS`."""
    from rkt.cli.parser import add_subcommands

    add_subcommands(p, f"rkt {command}", SUBCOMMANDS)


def _run_verify(args: argparse.Namespace, store: Store, gopts: GlobalOptions) -> int:
    from rkt.trust.errors import SignatureError
    from rkt.trust.stored import verify_stored

    failed = 0
    for ref in args.images:
        try:
            sys.stdout.write(verify_stored(store, ref, gopts.config_dirs) + "\n")
        except SignatureError as e:
            sys.stderr.write(f"image verify: {e}\n")
            failed += 1
    return 254 if failed else 0


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.paths import DataDir
    from rkt.store import Store

    with Store(DataDir(gopts.dir).store) as store:
        handler = globals()["_run_" + args.subcommand.replace("-", "_")]
        return int(handler(args, store, gopts))


# -- list -------------------------------------------------------------------------------------

def human_size(n: int) -> str:
    """``1.2MiB``, ``143MiB``, ``512B`` (binary units, as rkt printed them)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            if unit == "B":
                return f"{n}B"
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _cell(rec: ImageRecord, field: str, full: bool) -> str:
    from rkt.cli import timefmt
    from rkt.store import short_id

    if field == "id":
        return rec.id if full else short_id(rec.id)
    if field == "name":
        return rec.display_name
    if field == "size":
        return str(rec.size) if full else human_size(rec.size)
    when = rec.import_time if field == "importtime" else rec.last_used
    return timefmt.absolute(when) if full else timefmt.relative(when)


def _sort_key(field: str):  # type: ignore[no-untyped-def]
    return {"id": lambda r: r.id, "name": lambda r: r.display_name, "size": lambda r: r.size,
            "importtime": lambda r: r.import_time, "lastused": lambda r: r.last_used}[field]


def _split_fields(text: str, flag: str) -> list[str]:
    from rkt_sdk.errors import RktError

    fields = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in fields if f not in FIELDS]
    if bad or not fields:
        raise RktError(f'bad {flag} value "{text}": use a comma-separated list of {", ".join(FIELDS)}')
    return fields


def _run_list(args: argparse.Namespace, store: Store, gopts: GlobalOptions) -> int:
    from rkt.cli import table

    fields = _split_fields(args.fields, "--fields")
    images = store.images()
    for key in reversed(_split_fields(args.sort, "--sort")):
        images.sort(key=_sort_key(key))
    if args.order == "desc":
        images.reverse()
    if args.format:
        data = [{"id": r.id, "name": r.name, "importTime": r.import_time, "lastUsedTime": r.last_used,
                 "size": r.size, "labels": r.labels} for r in images]
        sys.stdout.write(json.dumps(data, indent=2 if args.format == "json-pretty" else None) + "\n")
        return 0
    rows = [] if args.no_legend else [[FIELDS[f] for f in fields]]
    rows += [[_cell(r, f, args.full) for f in fields] for r in images]
    sys.stdout.write(table.render(rows, pad=2))
    return 0


# -- rm and gc -------------------------------------------------------------------------------

def _removed(rec: ImageRecord) -> None:
    sys.stdout.write(f'successfully removed aci for image: "{rec.id}" ("{rec.name}")\n')


def _run_rm(args: argparse.Namespace, store: Store, gopts: GlobalOptions) -> int:
    from rkt_sdk.errors import RktError

    done = failed = 0
    for ref in args.images:
        try:
            rec = store.resolve(ref)
            store.remove(rec.id)
        except RktError as e:
            sys.stderr.write(f"image rm: {e}\n")
            failed += 1
            continue
        _removed(rec)
        done += 1
    if done:
        sys.stdout.write(f"{done} image(s) successfully removed\n")
    return 254 if failed else 0


def _run_gc(args: argparse.Namespace, store: Store, gopts: GlobalOptions) -> int:
    from rkt.paths import DataDir
    from rkt.store.trees import trees_in_use

    in_use = trees_in_use(DataDir(gopts.dir).pods)
    for tree in store.gc_trees(in_use):
        sys.stdout.write(f'removed treestore "{tree}"\n')
    removed = store.gc_images(args.grace_period, in_use)
    for rec in removed:
        _removed(rec)
    sys.stdout.write(f"{len(removed)} image(s) successfully removed\n")
    return 0


# -- looking inside and copying out ------------------------------------------------------------

def _run_cat_manifest(args: argparse.Namespace, store: Store, gopts: GlobalOptions) -> int:
    raw = json.loads(store.manifest_json(store.resolve(args.image).id))
    text = json.dumps(raw, indent="\t") if args.pretty_print else json.dumps(raw, separators=(",", ":"))
    sys.stdout.write(text + "\n")
    return 0


def _run_extract(args: argparse.Namespace, store: Store, gopts: GlobalOptions) -> int:
    from pathlib import Path

    store.extract(store.resolve(args.image).id, Path(args.dest), rootfs_only=args.rootfs_only,
                  overwrite=args.overwrite)
    return 0


_run_render = _run_extract


def _run_export(args: argparse.Namespace, store: Store, gopts: GlobalOptions) -> int:
    from pathlib import Path

    store.export(store.resolve(args.image).id, Path(args.dest), overwrite=args.overwrite)
    return 0
