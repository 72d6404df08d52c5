"""appc discovery templates and meta tags (the spec's examples)."""

from __future__ import annotations

from rkt.trust.discovery import _from_page, _pages, meta_tags, render

LABELS = {"version": "1.0.0", "os": "linux", "arch": "amd64"}


def test_meta_tags_read_and_malformed_ignored() -> None:
    html = ('<html><head><meta name="ac-discovery" content="example.com https://s.example.com/{name}.{ext}">'
            '<META NAME="ac-discovery-pubkeys" CONTENT="example.com https://example.com/pubkeys.gpg">'
            '<meta name="ac-discovery" content="only-one-part"><meta name="other" content="a b"></head></html>')
    assert meta_tags(html) == [("ac-discovery", "example.com", "https://s.example.com/{name}.{ext}"),
                               ("ac-discovery-pubkeys", "example.com", "https://example.com/pubkeys.gpg")]


def test_render_counts_labels_and_refuses_unfilled_placeholders() -> None:
    t = "https://storage.example.com/{os}/{arch}/{name}-{version}.{ext}"
    assert render(t, "example.com/reduce-worker", LABELS) == (
        3, "https://storage.example.com/linux/amd64/example.com/reduce-worker-1.0.0.{ext}")
    assert render(t, "example.com/x", {"os": "linux", "arch": "amd64"}) is None
    assert render("https://s.example.com/{name}", "a", LABELS) is None
    assert render("https://s.example.com/{name}-{foo}.{ext}", "a", LABELS) is None


def test_best_matching_templates_only() -> None:
    page = ('<meta name="ac-discovery" content="example.com https://a.example.com/{os}/{arch}/{name}-{version}.{ext}">'
            '<meta name="ac-discovery" content="example.com https://b.example.com/{os}/{arch}/{name}-{version}.{ext}">'
            '<meta name="ac-discovery" content="example.com https://a.example.com/{os}/{arch}/{name}-latest.{ext}">'
            '<meta name="ac-discovery" content="other.org https://o.example.org/{name}.{ext}">')
    found = _from_page(page, "example.com/reduce-worker", LABELS, True)
    assert [e.aci for e in found.endpoints] == [
        "https://a.example.com/linux/amd64/example.com/reduce-worker-1.0.0.aci",
        "https://b.example.com/linux/amd64/example.com/reduce-worker-1.0.0.aci"]
    assert found.endpoints[0].asc.endswith("reduce-worker-1.0.0.aci.asc")
    latest = _from_page(page, "example.com/reduce-worker", {"os": "linux", "arch": "amd64"}, True)
    assert [e.aci for e in latest.endpoints] == ["https://a.example.com/linux/amd64/example.com/reduce-worker-latest.aci"]


def test_walk_up_order() -> None:
    assert _pages("example.com/project/subproject") == ["example.com/project/subproject", "example.com/project",
                                                        "example.com"]
