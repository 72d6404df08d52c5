"""Unit tests of the hello flavor's own answers; the conformance kit checks the rest.

Run them together: ``pytest --rkt-flavor=hello`` (as root, with rkt installed).
"""

from __future__ import annotations

from rkt_stage1_hello import plugin

from rkt_sdk import INTERFACE_VERSION, MIN_INTERFACE_VERSION


def test_describe_names_the_entry_point() -> None:
    info = plugin.rkt_stage1_describe()
    assert info.name == "hello"
    assert MIN_INTERFACE_VERSION <= info.interface_version <= INTERFACE_VERSION
    assert not info.capabilities.multi_app


def test_settings_schema_has_defaults_of_their_type() -> None:
    types = {"str": str, "bool": bool}
    for field in plugin.rkt_stage1_config_schema():
        assert isinstance(field.default, types[field.type]), field
        assert field.description
