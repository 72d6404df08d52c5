"""An example rkt stage1 flavor: one app, chrooted, supervised by the rkt process."""

__version__ = "0.1.0"
