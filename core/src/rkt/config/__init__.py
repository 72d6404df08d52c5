"""rkt's configuration files: ``rktKind``/``rktVersion`` JSON documents in layered directories.

Each config directory (system ``/usr/lib/rkt`` < local ``/etc/rkt`` < user) holds one
subdirectory per kind family; every ``*.json`` file in it is one document:

- ``paths.d``: ``rktKind: paths`` (:mod:`rkt.config.paths`),
- ``auth.d``: ``rktKind: auth`` and ``dockerAuth`` (:mod:`rkt.config.auth`),
- ``docker-auth.d``: ``rktKind: dockerAuth``,
- ``stage1.d``: ``rktKind: stage1`` (:mod:`rkt.config.stage1`).

Nothing here is imported by the hot commands unless they read a config kind.
"""
