"""Benchmarks of rkt against peers measured in the same run (``nox -s bench``, ``python -m bench``).

Each benchmark reports medians over repeated runs and the ratio against a peer (``runc run``,
``unshare``+``chroot``, the interpreter's own start-up, ``tar -x`` + ``sha512sum``, a raw
``qemu-system`` boot), never bare times; :mod:`bench.budgets` turns those ratios into PASS/FAIL
against the project's start-up budget. Everything runs in a temporary data directory that is
garbage-collected and removed at the end.
"""
