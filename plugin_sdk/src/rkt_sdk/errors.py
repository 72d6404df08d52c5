"""Named errors shared by stage0 and flavors.

Every error rkt reports to a user derives from :class:`RktError`; the CLI prints its
message on one line to stderr and exits with :attr:`RktError.exit_code` (254, rkt's own).
"""

from __future__ import annotations


class RktError(Exception):
    """An error of rkt itself (not of an app): one line for the user, exit code 254."""

    exit_code = 254


class FlavorError(RktError):
    """A stage1 flavor could not do what was asked (raised by flavors)."""


class HostUnsupported(FlavorError):
    """This host cannot run the flavor; the message says why."""


class PodDirError(RktError):
    """A pod directory is missing a file or holds a malformed one."""


class ManifestError(RktError):
    """An image or pod manifest is malformed; the message names the field."""
