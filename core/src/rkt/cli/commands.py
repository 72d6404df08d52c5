"""rkt's commands: name -> (module, one-line summary), in the order ``rkt --help`` lists them.

Each module defines ``FLAGS`` (:class:`rkt.cli.options.Flag`), ``ARGS`` (positionals) and
``run(args, gopts) -> int``; a module with ``RAW_ARGV = True`` parses its own arguments
(``run``'s images and app flags interleave; ``enter``'s command keeps its own flags).
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("rkt.cli.run", "Run image(s) in a pod"),
    "prepare": ("rkt.cli.run", "Prepare to run image(s) in a pod"),
    "run-prepared": ("rkt.cli.run_prepared", "Run a prepared pod"),
    "list": ("rkt.cli.list", "List pods"),
    "status": ("rkt.cli.status", "Check the status of a pod"),
    "stop": ("rkt.cli.stop", "Stop pods"),
    "enter": ("rkt.cli.enter", "Enter the namespaces of an app within a rkt pod"),
    "gc": ("rkt.cli.gc", "Garbage collect pods no longer in use"),
    "rm": ("rkt.cli.rm", "Remove all files and resources associated with an exited pod"),
    "cat-manifest": ("rkt.cli.cat_manifest", "Inspect and print the pod manifest"),
    "fetch": ("rkt.cli.fetch", "Fetch image(s) and store them in the local store"),
    "image": ("rkt.cli.image", "Operate on image(s) in the local store"),
    "flavors": ("rkt.cli.flavors", "List installed stage1 flavors and whether this host can run them"),
    "trust": ("rkt.cli.trust", "Trust a key for image verification; list or remove trusted keys"),
    "config": ("rkt.cli.config", "Print configuration for each stage in JSON format"),
    "version": ("rkt.cli.version", "Print the version and exit"),
}
