"""The benchmark suites, by the name used to select them (``python -m bench startup list``)."""

from __future__ import annotations

from collections.abc import Callable

from bench.context import Context
from bench.timing import Result


def _load() -> dict[str, Callable[[Context], list[Result]]]:
    from bench.suites import commands, image, memory, mutable, pull, startup, verify, vm

    return {
        "startup": startup.run,
        "version": commands.version,
        "list": commands.list_pods,
        "status": commands.status,
        "gc": commands.gc,
        "import": image.import_image,
        "overlay": image.second_start,
        "vm": vm.run,
        "memory": memory.run,
        "verify": verify.run,
        "mutable": mutable.run,
        "pull": pull.run,
    }


#: suite name -> what it measures (for ``--names`` and the table's headings)
DESCRIPTIONS = {
    "startup": "rkt run of /bin/true per container flavor vs runc run, unshare+chroot, python3 -c pass",
    "version": "rkt version vs the interpreter floor",
    "list": "rkt list with 1, 100, 1000 exited pods vs the interpreter floor",
    "status": "rkt status with 1, 100, 1000 exited pods vs the interpreter floor",
    "gc": "rkt gc of 200 exited pods vs rm -rf of the same directories",
    "import": "rkt fetch of a >=200 MB image into a fresh store vs tar -x + sha512sum",
    "overlay": "second rkt run from the large image vs the first (no copy of the rootfs)",
    "vm": "VM flavors: boot to the app's first output vs a raw qemu-system boot to a marker",
    "memory": "peak memory of rkt run and of the pod process while the app runs",
    "verify": "rkt fetch of a >=200 MB ACI over loopback HTTP with its signature checked vs --insecure-options=image",
    "mutable": "rkt app add + app start into a coreos sandbox vs rkt run --net=host; app stop vs the app's exit",
    "pull": "rkt pull of a 6-layer, >=200 MB OCI image until a pod can start vs skopeo copy + umoci unpack; "
            "a second image sharing the base; peak memory; rkt run imports no registry client",
}

NAMES = tuple(DESCRIPTIONS)


def suite(name: str) -> Callable[[Context], list[Result]]:
    """The function running suite ``name``."""
    return _load()[name]
