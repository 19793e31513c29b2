"""``@struct`` and ``@frozen_struct`` give what ``@dataclass`` gives the read path's classes."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from modelreg.structs import field, fields, frozen_struct, replace, struct


@struct
class Mutable:
    name: str
    number: int = 1
    tags: dict[str, str] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict, compare=False)

    def label(self) -> str:
        return f"{self.name}/{self.number}"


@frozen_struct
class Frozen:
    name: str
    selector: int | str | None = None


@dataclasses.dataclass
class MutableDataclass:
    name: str
    number: int = 1
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    raw: dict[str, str] = dataclasses.field(default_factory=dict, compare=False)


def test_a_struct_is_built_compared_and_shown_as_a_dataclass_is() -> None:
    made = [Mutable("m"), Mutable("m", 2, {"a": "b"}), Mutable(name="m", tags={"a": "b"})]
    same = [MutableDataclass("m"), MutableDataclass("m", 2, {"a": "b"})]
    same.append(MutableDataclass(name="m", tags={"a": "b"}))
    assert [vars(each) for each in made] == [vars(each) for each in same]
    assert [repr(each) for each in made] == [repr(each).replace("Dataclass", "") for each in same]
    assert Mutable("m").tags is not Mutable("m").tags  # a new default each time
    assert Mutable("m", raw={"x": "y"}) == Mutable("m")  # compare=False
    assert Mutable("m") != Mutable("m", 2)
    assert Mutable("m").__eq__(MutableDataclass("m")) is NotImplemented  # another class
    assert Mutable("m").label() == "m/1"  # the class's own methods stay
    assert fields(Mutable) == ("name", "number", "tags", "raw") == Mutable.__match_args__
    with pytest.raises(TypeError, match="unhashable"):
        hash(Mutable("m"))
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'name'"):
        Mutable()  # type: ignore[call-arg]


def test_a_frozen_struct_refuses_changes_and_hashes_by_its_fields() -> None:
    ref = Frozen("m", 3)
    assert hash(ref) == hash(Frozen("m", 3)) and {ref, Frozen("m", 3)} == {ref}
    with pytest.raises(AttributeError, match="frozen"):
        ref.name = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="frozen"):
        del ref.name
    assert replace(ref, selector="@champion") == Frozen("m", "@champion")
    assert ref == Frozen("m", 3)  # replace made a new one
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        replace(ref, nope=1)
    assert pickle.loads(pickle.dumps(ref)) == ref == copy.deepcopy(ref)  # noqa: S301 - own bytes


def test_a_field_without_a_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="'second' without a default follows one with"):

        @struct
        class Wrong:
            first: int = 0
            second: int  # type: ignore[misc]
