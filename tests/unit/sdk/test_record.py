"""Records, the frozen data types of the SDK: construction, immutability, equality, copies."""

from __future__ import annotations

import copy
import pickle
from types import MappingProxyType

import pytest

from rkt_sdk.record import FrozenRecordError, Record, fields, is_record, replace
from rkt_sdk.types import Capabilities, FlavorInfo, HostCheck, RunOptions


class Point(Record):
    """A test record."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


def test_positional_keyword_and_default_construction() -> None:
    assert Point(1, 2) == Point(x=1, y=2) == Point(1, y=2)
    p = Point(3)
    assert (p.x, p.y, p.tags) == (3, 0, ())
    assert repr(Point(1, 2, ("a",))) == "Point(x=1, y=2, tags=('a',))"


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((), {}, r"Point\(\) missing required argument: 'x'"),
    ((1, 2, (), 4), {}, r"Point\(\) takes 3 positional arguments but 4 were given"),
    ((1,), {"x": 2}, r"Point\(\) got multiple values for argument 'x'"),
    ((1,), {"z": 2}, r"Point\(\) got an unexpected keyword argument 'z'"),
])
def test_bad_construction_is_a_type_error(args: tuple[object, ...], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)  # type: ignore[arg-type]


def test_records_are_immutable_and_slotted() -> None:
    p = Point(1)
    with pytest.raises(FrozenRecordError, match="cannot assign to field 'x' of Point"):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.y  # type: ignore[misc]
    with pytest.raises(FrozenRecordError):
        p.other = 1  # type: ignore[attr-defined]
    assert not hasattr(p, "__dict__")
    assert p == Point(1)


def test_equality_and_hash_follow_the_fields_and_the_class() -> None:
    class Other(Record):
        x: int
        y: int = 0
        tags: tuple[str, ...] = ()

    assert Point(1) != Point(2)
    assert Point(1) != Other(1)
    assert {Point(1), Point(1), Point(2)} == {Point(1), Point(2)}


def test_replace_fields_copy_and_pickle() -> None:
    p = Point(1, 2)
    assert replace(p, y=5) == Point(1, 5) and p == Point(1, 2)
    with pytest.raises(TypeError, match="Point has no field 'z'"):
        replace(p, z=1)
    assert fields(Point) == fields(p) == ("x", "y", "tags")
    assert is_record(Point) and is_record(p) and not is_record(object())
    assert pickle.loads(pickle.dumps(p)) == p and copy.deepcopy(p) == p and copy.copy(p) == p


def test_subclass_adds_fields_after_the_inherited_ones() -> None:
    class Point3(Point):
        z: int = 0

    assert fields(Point3) == ("x", "y", "tags", "z")
    assert Point3(1, z=4) == Point3(x=1, y=0, tags=(), z=4)


def test_mutable_defaults_and_misordered_defaults_are_refused() -> None:
    with pytest.raises(TypeError, match="mutable default list"):
        class Bad(Record):
            items: list[int] = []

    with pytest.raises(TypeError, match="field 'b' without a default follows field 'a' with one"):
        class Bad2(Record):
            a: int = 0
            b: int


def test_sdk_types_keep_their_names_defaults_and_keywords() -> None:
    info = FlavorInfo(name="x", version="1", interface_version=1)
    assert info.capabilities == Capabilities() and info.summary == ""
    opts = RunOptions(net="none", hostname="h")
    assert opts.settings == {} and isinstance(opts.settings, MappingProxyType)
    assert replace(opts, hostname="k").hostname == "k"
    assert HostCheck(False, "why") == HostCheck(ok=False, reason="why", warnings=())
    with pytest.raises(AttributeError):
        info.name = "y"  # type: ignore[misc]
