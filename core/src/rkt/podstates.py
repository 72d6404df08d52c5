"""The state directories of pods (``pods/<state>`` in the data directory), in lifecycle order.

Its own module, importing nothing, for the fast paths that find a pod before anything else is
loaded (:mod:`rkt.cli.quick`); :mod:`rkt.paths` and :mod:`rkt.pods.layout` say what each state means.
"""

POD_STATES = ("embryo", "prepare", "prepared", "run", "exited-garbage", "garbage")
