"""The record of one registry login, whichever file or helper it came from.

Its own module so that the places credentials come from (:mod:`.credentials`,
:mod:`.credhelpers`) and the authenticator that uses them (:mod:`.auth`) share it without
importing each other.
"""

from __future__ import annotations

from rkt_sdk.record import Record


class RegistryCredentials(Record):
    """A user name and password for one registry, and where they were found (for messages).

    ``identity_token`` is an OAuth2 refresh token (``identitytoken`` in the files, what some
    registries' logins store) to trade for access tokens instead of the password.
    """

    user: str
    password: str
    source: str
    identity_token: str = ""
