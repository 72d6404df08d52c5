"""Docker and OCI registries over HTTP(S): the parts of the ``docker://`` transport.

- :mod:`.transport`: urllib3 pools, proxies from the environment, TLS, redirects.
- :mod:`.challenge` and :mod:`.auth`: ``WWW-Authenticate`` challenges, Bearer tokens, Basic auth.
- :mod:`.credentials`: rkt's ``dockerAuth`` config, the containers auth file, Docker's config.
- :mod:`.source`: :class:`~.source.DockerSource`, the image source over all of them.

Imported only when an image is fetched from a registry (it imports urllib3).
"""
