"""Keys (real GnuPG, in a temporary home) and tiny ACIs for the trust tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.gpg import GpgHome, Key


@pytest.fixture(scope="session")
def gpghome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GpgHome]:
    home = GpgHome(tmp_path_factory.mktemp("gnupg"))
    yield home
    home.close()


@pytest.fixture(scope="session")
def signer(gpghome: GpgHome) -> Key:
    return gpghome.new_key("Image Signer <signer@example.com>")


@pytest.fixture(scope="session")
def stranger(gpghome: GpgHome) -> Key:
    return gpghome.new_key("Someone Else <else@example.org>")


@pytest.fixture(scope="session")
def old_key(gpghome: GpgHome) -> Key:
    """A key that expired in 2020, a day after it was made."""
    return gpghome.new_key("Old Signer <old@example.com>", expire="1d", faked_time="20200101T000000")


@pytest.fixture(scope="session")
def doomed_key(gpghome: GpgHome) -> Key:
    """A key whose revocation certificate tests apply (``revoked_public``)."""
    return gpghome.new_key("Revoked Signer <revoked@example.com>")
