"""The pod manifest built from the apps asked for: environment precedence, exec, names, volumes."""

from __future__ import annotations

import pytest

from rkt.apps.manifest import PodSpecError, app_name_for, build_pod_manifest
from rkt.apps.request import AppRequest, PodRequest
from rkt_sdk.appc import KV, ImageManifest, Mount, Volume


def _image(name: str = "example.com/app", env: dict[str, str] | None = None, exec_: list[str] | None = None,
           mount_points: list[dict[str, object]] | None = None) -> ImageManifest:
    app: dict[str, object] = {"exec": exec_ or ["/bin/app", "--flag"], "user": "0", "group": "0",
                              "environment": [{"name": k, "value": v} for k, v in (env or {}).items()]}
    if mount_points:
        app["mountPoints"] = mount_points
    return ImageManifest.from_dict({"acKind": "ImageManifest", "acVersion": "0.8.11", "name": name,
                                    "labels": [{"name": "os", "value": "linux"},
                                               {"name": "arch", "value": "amd64"}], "app": app})


def _build(pod: PodRequest, im: ImageManifest | None = None):  # type: ignore[no-untyped-def]
    image = im or _image()
    return build_pod_manifest(pod, lambda ref: ("sha512-" + "0" * 128, image))


def test_environment_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("V0", "host")
    monkeypatch.setenv("V1", "host")
    im = _image(env={"V1": "image", "V2": "image", "V3": "image", "V4": "image"})
    pod = PodRequest(apps=(AppRequest("img", environment=(KV("V4", "app"),)),), inherit_env=True,
                     set_env_file=(KV("V2", "file"), KV("V3", "file"), KV("V4", "file")),
                     set_env=(KV("V3", "flag"), KV("V4", "flag")))
    env = _build(pod, im).apps[0].app.env_dict()
    assert [env[f"V{i}"] for i in range(5)] == ["host", "image", "file", "flag", "app"]


def test_caller_environment_only_with_inherit_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONLY_HOST", "x")
    assert "ONLY_HOST" not in _build(PodRequest(apps=(AppRequest("img"),))).apps[0].app.env_dict()


def test_args_append_to_the_image_exec_and_exec_replaces_it() -> None:
    m = _build(PodRequest(apps=(AppRequest("img", args=("a", "b")),)))
    assert m.apps[0].app.exec == ("/bin/app", "--flag", "a", "b")
    m = _build(PodRequest(apps=(AppRequest("img", exec="/bin/other", args=("a",)),)))
    assert m.apps[0].app.exec == ("/bin/other", "a")


def test_image_without_app_needs_exec() -> None:
    im = ImageManifest.from_dict({"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/x",
                                  "labels": [{"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}]})
    with pytest.raises(PodSpecError, match='"img"'):
        _build(PodRequest(apps=(AppRequest("img"),)), im)


def test_app_names_from_image_names_are_made_unique() -> None:
    assert app_name_for("example.com/My_App") == "my-app"
    m = _build(PodRequest(apps=(AppRequest("a"), AppRequest("b"))))
    assert [a.name for a in m.apps] == ["app", "app-2"]
    with pytest.raises(PodSpecError, match="twice"):
        _build(PodRequest(apps=(AppRequest("a", name="x"), AppRequest("b", name="x"))))


def test_mount_points_take_the_volume_of_their_name_or_an_empty_one() -> None:
    im = _image(mount_points=[{"name": "data", "path": "/data"}, {"name": "cache", "path": "/cache"}])
    pod = PodRequest(apps=(AppRequest("img"),), volumes=(Volume("data", "host", source="/srv"),))
    m = _build(pod, im)
    assert set(m.apps[0].mounts) == {Mount("data", "/data"), Mount("cache", "/cache")}
    assert {(v.name, v.kind) for v in m.volumes} == {("data", "host"), ("cache", "empty")}


def test_mount_of_an_undefined_volume() -> None:
    with pytest.raises(PodSpecError, match='"nope"'):
        _build(PodRequest(apps=(AppRequest("img", mounts=(Mount("nope", "/x"),)),)))
