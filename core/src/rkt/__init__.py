"""rkt stage0: the ``rkt`` command and the library behind it."""

__version__ = "0.1.0"
