"""The ``docker://`` transport: an image in a Docker or OCI registry, over HTTP(S).

See :mod:`rkt.images.registry` for how it speaks to the registry.
"""

from __future__ import annotations

from rkt.images.reference import SourceRef
from rkt.images.registry.source import DockerSource
from rkt.images.source import SourceOptions


def open_source(ref: SourceRef, options: SourceOptions) -> DockerSource:
    """The source for a parsed ``docker://`` reference."""
    assert ref.docker is not None
    return DockerSource(ref.docker, ref.display, insecure=options.insecure, config_dirs=options.config_dirs,
                        debug=options.debug)
