"""rkt stage1 flavor ``kvm``: each pod is a virtual machine, a transient libvirt domain.

The domain is named ``rkt-<uuid>``, created with autodestroy (it dies with the ``rkt run``
process that owns it), and followed through libvirt's lifecycle events. The guest side is
the VM kit of :mod:`rkt_sdk.vm`, shared with the ``qemu`` flavor.
"""

__version__ = "0.1.0"
