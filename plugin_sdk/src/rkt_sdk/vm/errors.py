"""Named errors of the VM kit."""

from __future__ import annotations

from rkt_sdk.errors import FlavorError


class VMError(FlavorError):
    """A VM could not be prepared, started or followed."""


class KernelNotFound(VMError):
    """No guest kernel (or none of its modules) where the settings point."""


class AccelUnavailable(VMError):
    """The acceleration the settings demand (``accel=kvm``) does not work on this host."""


class GuestError(VMError):
    """The guest failed to boot or reported an error while setting up the pod."""
