"""The ``fly`` stage1 flavor: the app runs chrooted in its root, in the host's namespaces."""

__version__ = "0.1.0"
