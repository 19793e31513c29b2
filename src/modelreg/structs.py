"""``@struct``: the dataclasses of the read path, without :mod:`dataclasses`.

``modelreg resolve`` runs in Makefiles' ``$(shell ...)`` on every ``make``, so a read
command's start-up counts (see :mod:`modelreg.quick`). Importing :mod:`dataclasses`
imports :mod:`inspect` (and with it ``ast``, ``dis``, ``tokenize``): about a third of
what such a command cost. So the classes a read builds — the entities, references, the
configuration, the alias files, the output columns — are declared as dataclasses are,
with ``@struct`` (``@frozen_struct``) and :func:`field`, and get what ``@dataclass``
would give them: ``__init__`` (with the same parameters and defaults), ``__repr__``,
``__eq__`` over the compared fields (``__hash__`` too when frozen; unhashable
otherwise), ``__match_args__``; a frozen one refuses assignments. Type checkers treat
them as dataclasses (``dataclass_transform``). :func:`replace` and :func:`fields` stand
in for ``dataclasses.replace`` and ``dataclasses.fields`` (names only).

Supported: fields annotated in the class itself (no inheritance of fields), defaults and
``field(default_factory=..., compare=...)``. Methods the class defines are kept.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `from typing import ...`: typing costs start-up too
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from typing_extensions import dataclass_transform

    _C = TypeVar("_C", bound=type)
    _S = TypeVar("_S")
    _T = TypeVar("_T")
else:

    def dataclass_transform(**_kwargs: object) -> Callable[[_C], _C]:
        return lambda decorator: decorator


_MISSING = object()  # a parameter left out: the field's default factory runs
_FIELDS = "__struct_fields__"


class _Field:
    __slots__ = ("compare", "default_factory")

    def __init__(self, default_factory: Callable[[], object], compare: bool) -> None:
        self.default_factory = default_factory
        self.compare = compare


def field(*, default_factory: Callable[[], _T], compare: bool = True) -> _T:
    """A field whose default is made for each instance (``dataclasses.field``);
    ``compare=False`` leaves it out of ``==`` and the hash."""
    return _Field(default_factory, compare)  # type: ignore[return-value]


def fields(struct: object) -> tuple[str, ...]:
    """The names of a struct's (or a struct class's) fields, in order."""
    names: tuple[str, ...] = getattr(struct, _FIELDS)
    return names


def replace(struct: _S, **changes: object) -> _S:
    """A new struct with ``changes`` and the other fields of ``struct`` (built through
    ``__init__``, as ``dataclasses.replace`` does; an unknown name is a TypeError)."""
    make: Callable[..., _S] = type(struct)
    return make(**{name: getattr(struct, name) for name in fields(struct)} | changes)


@dataclass_transform(field_specifiers=(field,))
def struct(cls: _C) -> _C:
    """A mutable struct (``@dataclass``)."""
    return _build(cls, frozen=False)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen_struct(cls: _C) -> _C:
    """An immutable, hashable struct (``@dataclass(frozen=True)``)."""
    return _build(cls, frozen=True)


def _build(cls: _C, *, frozen: bool) -> _C:
    names: list[str] = []
    compared: list[str] = []
    namespace: dict[str, Any] = {"_MISSING": _MISSING, "_set": object.__setattr__}
    params: list[str] = []
    lines: list[str] = []
    for name, annotation in cls.__annotations__.items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        names.append(name)
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, _Field):
            delattr(cls, name)  # as dataclasses do: no class attribute for a factory
            namespace[f"_factory_{name}"] = value.default_factory
            params.append(f"{name}=_MISSING")
            assigned = f"_factory_{name}() if {name} is _MISSING else {name}"
            if value.compare:
                compared.append(name)
        elif value is not _MISSING:
            namespace[f"_default_{name}"] = value
            params.append(f"{name}=_default_{name}")
            assigned = name
            compared.append(name)
        elif params and "=" in params[-1]:
            raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one with")
        else:
            params.append(name)
            assigned = name
            compared.append(name)
        lines.append(f"_set(self, {name!r}, {assigned})" if frozen else f"self.{name} = {assigned}")
    source = f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(lines or ["pass"])
    exec(source, namespace)  # noqa: S102 - our own code from field names, as dataclasses do
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    order = tuple(names)
    keys = tuple(compared)

    def _repr(self: object) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in order)
        return f"{type(self).__qualname__}({shown})"

    def _eq(self: object, other: object) -> object:  # bool, or NotImplemented
        if other.__class__ is not self.__class__:
            return NotImplemented
        return tuple(getattr(self, key) for key in keys) == tuple(
            getattr(other, key) for key in keys
        )

    def _hash(self: object) -> int:
        return hash(tuple(getattr(self, key) for key in keys))

    def _setattr(self: object, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def _delattr(self: object, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")

    made: dict[str, object] = {
        "__init__": init,
        "__repr__": _repr,
        "__eq__": _eq,
        "__hash__": _hash if frozen else None,
        "__match_args__": order,
        _FIELDS: order,
    }
    if frozen:
        made |= {"__setattr__": _setattr, "__delattr__": _delattr}
    own_hash = cls.__dict__.get("__hash__") is not None
    for attribute, value in made.items():
        if attribute not in cls.__dict__ or (attribute == "__hash__" and not own_hash):
            setattr(cls, attribute, value)
    return cls
