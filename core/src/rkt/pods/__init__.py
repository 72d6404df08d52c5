"""Pods on disk: their directories, locks, states, and lifecycle (prepare, run, gc, rm)."""
