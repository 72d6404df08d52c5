"""Linux helpers for flavors: mounts, credentials, namespaces, cgroups, capabilities, seccomp.

Each module wraps the kernel interface it names through ctypes and the standard library
only, so any flavor can use it without extra dependencies.
"""
