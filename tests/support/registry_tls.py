"""A test certificate authority and a server certificate for 127.0.0.1 / localhost.

Clients trust the CA through ``SSL_CERT_FILE=<ca.crt>``; the registry serves ``server.crt``.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from tests.support.registry_keys import new_key, pem_cert, pem_key


class TlsFiles:
    """Paths of the CA certificate and the server's certificate and key."""

    def __init__(self, ca: Path, cert: Path, key: Path) -> None:
        self.ca = ca
        self.cert = cert
        self.key = key


def _name(cn: str):  # type: ignore[no-untyped-def]
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_tls(dest: Path, cn: str = "rkt test CA", names: tuple[str, ...] = ()) -> TlsFiles:
    """Write ``ca.crt``, ``server.crt`` and ``server.key`` into ``dest`` (made if missing).

    The server certificate holds localhost, 127.0.0.1 and the DNS ``names`` given.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    dest.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = new_key()
    ca = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = new_key()
    san = x509.SubjectAlternativeName([x509.DNSName("localhost"), *(x509.DNSName(n) for n in names),
                                       x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(san, critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = TlsFiles(dest / "ca.crt", dest / "server.crt", dest / "server.key")
    files.ca.write_bytes(pem_cert(ca))
    files.cert.write_bytes(pem_cert(cert))
    files.key.write_bytes(pem_key(key))
    files.key.chmod(0o600)
    return files
