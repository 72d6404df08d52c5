"""The ``coreos`` stage1 flavor: each pod in its own Linux namespaces under a supervisor.

The supervisor is PID 1 of the pod's PID namespace; it starts every app in its own mount
namespace rooted at the app's rootfs, with its cgroup, credentials, capabilities and
seccomp filter, reaps the pod's processes and records each app's exit.
"""

__version__ = "0.1.0"
