"""appc image discovery: from a name such as ``example.com/app`` to image, signature and key URLs.

As the appc spec says: ``GET https://{name}?ac-discovery=1``, read the ``ac-discovery``
(``prefix url-template``) and ``ac-discovery-pubkeys`` (``prefix url``) meta tags whose
prefix matches the name, and when a page answers 4xx or has no matching tag, try the
parent path (``example.com/project/sub`` -> ``example.com/project`` -> ``example.com``).
Templates are rendered with ``{name}``, ``{version}``, ``{os}``, ``{arch}`` and ``{ext}``
(``aci`` / ``aci.asc``); only the best matching ones are used (every placeholder
substituted, the most labels substituted). Plain HTTP is tried only when allowed.
"""

from __future__ import annotations

import platform
from html.parser import HTMLParser

from rkt.trust.errors import TrustError
from rkt_sdk.record import Record

#: appc's architecture names for what ``uname -m`` says.
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "i686": "i386", "i386": "i386", "aarch64": "aarch64",
         "arm64": "aarch64", "armv7l": "armv7l", "armv6l": "armv6l", "ppc64le": "ppc64le", "s390x": "s390x"}
_LABELS = ("version", "os", "arch")


class DiscoveryError(TrustError):
    """Discovery found nothing usable for a name; the message lists what each URL answered."""


class Endpoint(Record):
    """One rendered template: the image URL and its signature URL."""

    aci: str
    asc: str


class Discovered(Record):
    """What discovery found for a name: image endpoints (best first) and public key URLs."""

    endpoints: tuple[Endpoint, ...]
    pubkeys: tuple[str, ...]
    https: bool


def host_labels() -> dict[str, str]:
    """The ``os`` and ``arch`` labels of this host, in appc's names."""
    machine = platform.machine()
    return {"os": "linux", "arch": _ARCH.get(machine, machine)}


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        a = {k.lower(): v or "" for k, v in attrs}
        if a.get("name") in ("ac-discovery", "ac-discovery-pubkeys"):
            parts = a.get("content", "").split()
            if len(parts) == 2:
                self.tags.append((a["name"], parts[0], parts[1]))


def meta_tags(html: str) -> list[tuple[str, str, str]]:
    """``(tag name, prefix, url)`` of every well-formed discovery meta tag of a page."""
    p = _Meta()
    p.feed(html)
    p.close()
    return p.tags


def render(template: str, name: str, labels: dict[str, str]) -> tuple[int, str] | None:
    """(labels substituted, URL template with ``{ext}`` left) or None if a placeholder cannot be filled."""
    out = template.replace("{name}", name)
    used = 0
    for label in _LABELS:
        key = "{" + label + "}"
        if key in out:
            if label not in labels:
                return None
            out = out.replace(key, labels[label])
            used += 1
    if "{ext}" not in out or "{" in out.replace("{ext}", ""):
        return None
    return used, out


def _pages(name: str) -> list[str]:
    parts = name.split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]


def discover(name: str, labels: dict[str, str], *, allow_http: bool = False, insecure_tls: bool = False,
             want: str = "ac-discovery") -> Discovered:
    """Walk up ``name``'s path until a page announces ``want`` for it; :class:`DiscoveryError` if none does."""
    from rkt.trust.remote import HttpError, get

    failures: list[str] = []
    for page in _pages(name):
        for scheme in ("https", "http") if allow_http else ("https",):
            url = f"{scheme}://{page}?ac-discovery=1"
            try:
                body = get(url, allow_http=allow_http, insecure_tls=insecure_tls)
            except HttpError as e:
                failures.append(str(e))
                continue
            found = _from_page(body.decode("utf-8", "replace"), name, labels, scheme == "https")
            if (want == "ac-discovery" and found.endpoints) or (want != "ac-discovery" and found.pubkeys):
                return found
            failures.append(f'"{url}": no {want} meta tag for "{name}"')
    raise DiscoveryError(f'discovery of "{name}" failed: {"; ".join(failures)}')


def _from_page(html: str, name: str, labels: dict[str, str], https: bool) -> Discovered:
    rendered: list[tuple[int, str]] = []
    keys: list[str] = []
    for tag, prefix, url in meta_tags(html):
        if not name.startswith(prefix):
            continue
        if tag == "ac-discovery-pubkeys":
            keys.append(url)
            continue
        r = render(url, name, labels)
        if r is not None:
            rendered.append(r)
    best = max((n for n, _ in rendered), default=-1)
    endpoints = tuple(Endpoint(u.replace("{ext}", "aci"), u.replace("{ext}", "aci.asc"))
                      for n, u in rendered if n == best)
    return Discovered(endpoints, tuple(keys), https)


def discover_pubkeys(prefix: str, *, allow_http: bool = False, insecure_tls: bool = False) -> list[str]:
    """The public key URLs discovery announces for ``prefix`` (``rkt trust --prefix`` without a key)."""
    found = discover(prefix, {}, allow_http=allow_http, insecure_tls=insecure_tls, want="ac-discovery-pubkeys")
    return list(found.pubkeys)
