"""Images from outside the store: references, sources and the pull engine.

- :mod:`rkt.images.source`: the :class:`~rkt.images.source.ImageSource` protocol every transport
  implements, :class:`~rkt.images.source.SourceOptions`, and :func:`~rkt.images.source.open_source`,
  which imports a transport's module only when its scheme is used.
- :mod:`rkt.images.reference`: what a source reference on the command line names (records, no I/O).
- :mod:`rkt.images.docker_reference`: ``[REGISTRY/]REPO[:TAG|@DIGEST]`` with Docker Hub's shorthand.
- :mod:`rkt.images.errors`: the named errors of fetching.

Transports, one module each: ``oci_layout`` (``oci:``), ``oci_archive`` (``oci-archive:``),
``docker_archive`` (``docker-archive:``) and ``docker`` (``docker://`` over HTTP).

Nothing here is imported by ``rkt run`` of an image already in the store.
"""
