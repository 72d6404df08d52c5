"""rkt stage1 flavor ``qemu``: each pod is a virtual machine that the pod process runs with QEMU.

No daemon: ``rkt run`` starts ``qemu-system-x86_64`` itself (a ``microvm`` machine by default)
and follows the guest through the VM kit of :mod:`rkt_sdk.vm`.
"""

__version__ = "0.1.0"
