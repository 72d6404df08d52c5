"""rkt's commands: name -> (module, one-line summary), in the order ``rkt --help`` lists them.

Each module defines ``FLAGS`` (:class:`rkt.cli.options.Flag`), ``ARGS`` (positionals) and
``run(args, gopts) -> int``; a module with ``RAW_ARGV = True`` parses its own arguments
(``run``'s images and app flags interleave; ``enter``'s command keeps its own flags).
"""

from __future__ import annotations

from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.cli.options import Arg, Flag

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("rkt.cli.run", "Run image(s) in a pod"),
    "prepare": ("rkt.cli.run", "Prepare to run image(s) in a pod"),
    "run-prepared": ("rkt.cli.run_prepared", "Run a prepared pod"),
    "list": ("rkt.cli.list", "List pods"),
    "status": ("rkt.cli.status", "Check the status of a pod"),
    "stop": ("rkt.cli.stop", "Stop pods"),
    "enter": ("rkt.cli.enter", "Enter the namespaces of an app within a rkt pod"),
    "app": ("rkt.cli.app", "Operate on the apps of a mutable pod (sandbox, add, start, stop, rm, list, status)"),
    "attach": ("rkt.cli.attach", "Attach to an app of a mutable pod running in stream or tty mode"),
    "gc": ("rkt.cli.gc", "Garbage collect pods no longer in use"),
    "rm": ("rkt.cli.rm", "Remove all files and resources associated with an exited pod"),
    "cat-manifest": ("rkt.cli.cat_manifest", "Inspect and print the pod manifest"),
    "fetch": ("rkt.cli.fetch", "Fetch image(s) and store them in the local store"),
    "image": ("rkt.cli.image", "Operate on image(s) in the local store"),
    "flavors": ("rkt.cli.flavors", "List installed stage1 flavors and whether this host can run them"),
    "trust": ("rkt.cli.trust", "Trust a key for image verification; list or remove trusted keys"),
    "config": ("rkt.cli.config", "Print configuration for each stage in JSON format"),
    "version": ("rkt.cli.version", "Print the version and exit"),
    "completion": ("rkt.cli.completion", "Print a shell completion script (bash, zsh, fish)"),
}


class Declared(Record):
    """What a command declares: its flags, positional arguments, an example, and its subcommands."""

    name: str
    summary: str
    flags: tuple[Flag, ...] = ()
    args: tuple[Arg, ...] = ()
    example: str = ""
    subcommands: tuple[Declared, ...] = ()


def declared(name: str) -> Declared:
    """The declarations of command ``name`` (imports its module), for completion and the docs."""
    import importlib

    module_name, summary = COMMANDS[name]
    module = importlib.import_module(module_name)
    flags = module.flags_for(name) if hasattr(module, "flags_for") else getattr(module, "FLAGS", ())
    example = module.EXAMPLES[name] if hasattr(module, "EXAMPLES") else getattr(module, "EXAMPLE", "")
    subs = tuple(Declared(f"{name} {sub}", s, f, a) for sub, (s, a, f) in getattr(module, "SUBCOMMANDS", {}).items())
    return Declared(name, summary, tuple(flags), tuple(getattr(module, "ARGS", ())), example, subs)
