"""The VM kit: what a stage1 flavor needs to run a pod inside a virtual machine.

Shared by the ``qemu`` and ``kvm`` flavors, usable by any third-party VM flavor:

- :mod:`~rkt_sdk.vm.kernel`: find the guest kernel and its modules; unpack it for a fast direct boot.
- :mod:`~rkt_sdk.vm.initramfs`: build (and cache by content) the guest's initramfs.
- :mod:`~rkt_sdk.vm.guest`: render the guest init and the per-pod script the guest runs.
- :mod:`~rkt_sdk.vm.accel`: decide between KVM and TCG from a real, bounded, cached probe.
- :mod:`~rkt_sdk.vm.qemu`: build a ``qemu-system-x86_64`` command line.
- :mod:`~rkt_sdk.vm.protocol` / :mod:`~rkt_sdk.vm.supervisor` / :mod:`~rkt_sdk.vm.client`: the
  host<->guest control channel, the host loop that follows a running pod, and the client used by
  ``enter`` and ``stop``.

Nothing here imports a heavy library at import time: jinja2 is imported inside the rendering
functions, and libvirt is the kvm flavor's own business.
"""
