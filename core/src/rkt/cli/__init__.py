"""The ``rkt`` command line: parsing and printing only, over the ``rkt`` library."""
