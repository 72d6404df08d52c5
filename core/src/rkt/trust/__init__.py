"""Image trust: the keystore of trusted OpenPGP keys and the checks of image signatures.

Keys live as rkt kept them, in the config directories (:mod:`rkt.trust.keystore`); an ACI
is checked against its detached signature before the store keeps anything of it
(:mod:`rkt.trust.aci`), a registry image against its "simple signing" signatures
(:mod:`rkt.trust.simple`). Every OpenPGP operation is done by a maintained implementation in
a subprocess: Sequoia's ``sqv`` checks detached signatures where installed
(:mod:`rkt.trust.sqv`), GnuPG does the rest (:mod:`rkt.trust.gpg`). Nothing here is imported
unless a command fetches, verifies or manages keys.
"""
