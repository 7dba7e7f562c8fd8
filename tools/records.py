"""Engine records on the wire: the tools' pydantic output models derived from the engine's dataclasses.

An engine result (``lifecycle.facts.Fact``, ``lifecycle.doctor.TableReport``, ``lifecycle.health.risk.AtRiskItem``…) is
declared once, as a dataclass beside the code computing it. ``wire_model`` reads its fields — names, order and types —
and builds the pydantic model a tool returns, so a field added to or retyped in the engine reaches the wire (and the
tool's output schema) without a second declaration. The wire adds only its own wording and shape: a docstring, field
descriptions, a renamed or omitted field, a type narrowed for JSON. A tool module subclasses the derived model to give it
its name and docstring::

    class TableSummary(wire_model(TableReport, rename={"first": "first_date"}, descriptions={...})):  # type: ignore[misc]
        \"\"\"One canonical table.\"\"\"

``WireModel.of(record)`` is the one way from a record to its wire model; ``tools.base.structured_result`` is the one way
from a model to ``structuredContent``.

Types are mapped for JSON (``wire_type``): ``tuple[X, ...]`` → ``list[X]``, an enum → the type of its values (a
``StrEnum`` → ``str``: schemas stay small and values plain), a nested dataclass → its own derived model; ``X | None``
keeps its ``None``.
"""

from __future__ import annotations

import dataclasses
import enum
import types as pytypes
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel, Field, create_model


class WireModel(BaseModel):
    """A tool's output model derived from an engine record (``wire_model``)."""

    record_fields: ClassVar[Mapping[str, str]] = {}
    """Wire field → the record attribute it is read from."""
    _nesting_fields: ClassVar[frozenset[str] | None] = None
    """The wire fields holding nested records (``_nesting``), set on first use per model."""

    @classmethod
    def of(cls, record: Any, **given: Any) -> Self:
        """The wire form of ``record``: each wire field read from the record attribute it was derived from (a nested
        record through its field's model); ``given`` supplies fields the record does not hold, or replaces values
        (e.g. text cleaned for the wire)."""
        nesting = cls._nesting()
        values = {wire: (getattr(record, attribute) if wire not in nesting
                         else _nested(cls.model_fields[wire].annotation, getattr(record, attribute)))
                  for wire, attribute in cls.record_fields.items() if wire not in given}
        return cls.model_validate({**values, **given}, from_attributes=True)

    @classmethod
    def _nesting(cls) -> frozenset[str]:
        """The wire fields whose annotation names a wire model (``_models_in``), found once per model: ``of`` passes the
        other fields' values through unchanged, as ``_nested`` would, without inspecting their annotations per record."""
        found = cls.__dict__.get("_nesting_fields")
        if found is None:
            found = frozenset(wire for wire in cls.record_fields if _models_in(cls.model_fields[wire].annotation))
            cls._nesting_fields = found
        return found

    if TYPE_CHECKING:  # the fields are the record's, made at run time: type checkers see them as Any
        def __getattr__(self, name: str) -> Any: ...


def _nested(annotation: Any, value: Any) -> Any:
    """``value`` with each nested record (alone, in a tuple or list) turned into the wire model ``annotation`` names
    for it, through that model's ``of`` (so its renames and omissions apply); other values unchanged."""
    models = _models_in(annotation)
    if not models:
        return value
    if isinstance(value, (tuple, list)):
        return [_nested(annotation, item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return next((m.of(value) for m in models if set(m.record_fields.values()) <= {f.name for f in
                                                                                      dataclasses.fields(value)}), value)
    return value


def _models_in(annotation: Any) -> list[type[WireModel]]:
    """The wire models ``annotation`` mentions (``M``, ``M | None``, ``list[M]``)."""
    if isinstance(annotation, type) and issubclass(annotation, WireModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def wire_model(record: type, *, exclude: tuple[str, ...] = (), rename: Mapping[str, str] | None = None,
               descriptions: Mapping[str, str] | None = None, types: Mapping[str, Any] | None = None,
               extra: Mapping[str, tuple[Any, str | None]] | None = None,
               order: tuple[str, ...] | None = None) -> type[WireModel]:
    """The pydantic model of the dataclass ``record`` as a tool sends it.

    One field per record field, in declaration order, typed ``wire_type(annotation)`` (or ``types[wire name]``, a type
    narrowed for the wire), without ``exclude``, named ``rename.get(field, field)`` and described by
    ``descriptions[wire name]``; ``extra`` appends fields the record does not hold (``{name: (type, description)}``);
    ``order`` (every wire name once) sends them in another order than the record declares them.
    Raises ``TypeError`` for a name that matches no field (a renamed engine field must not silently vanish)."""
    if not (isinstance(record, type) and dataclasses.is_dataclass(record)):
        raise TypeError(f"{record!r} is not a dataclass")
    rename, descriptions, types = rename or {}, descriptions or {}, types or {}
    names = {f.name for f in dataclasses.fields(record)}
    unknown = (set(exclude) | set(rename)) - names
    if unknown:
        raise TypeError(f"{record.__name__} has no field(s) {sorted(unknown)}")
    hints = typing.get_type_hints(record)
    fields: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for item in dataclasses.fields(record):
        if item.name in exclude:
            continue
        wire = rename.get(item.name, item.name)
        fields[wire] = (types[wire] if wire in types else wire_type(hints[item.name]), _field(descriptions.get(wire)))
        sources[wire] = item.name
    for wire, (annotation, description) in (extra or {}).items():
        fields[wire] = (annotation, _field(description))
    stray = (set(descriptions) | set(types)) - set(fields)
    if stray:
        raise TypeError(f"{record.__name__}: descriptions or types of unknown wire field(s) {sorted(stray)}")
    if order is not None:
        if sorted(order) != sorted(fields):
            raise TypeError(f"{record.__name__}: order {list(order)} is not the wire fields {list(fields)}")
        fields = {wire: fields[wire] for wire in order}
    model = create_model(f"{record.__name__}Wire", __base__=WireModel, **fields)
    model.record_fields = sources
    return model


def _field(description: str | None) -> Any:
    return Field(description=description) if description else Field()


_NESTED: dict[type, type[WireModel]] = {}


def wire_type(annotation: Any) -> Any:
    """The JSON-facing type of a record field's annotation (see the module docstring)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (pytypes.UnionType, typing.Union):
        mapped = [wire_type(arg) for arg in args]
        union = mapped[0]
        for arg in mapped[1:]:
            union = union | arg
        return union
    if origin is tuple:
        item = args[0] if args and (len(args) == 1 or args[1] is Ellipsis) else Any
        return pytypes.GenericAlias(list, (wire_type(item),))
    if origin is list:
        return pytypes.GenericAlias(list, (wire_type(args[0]) if args else Any,))
    if origin in (dict, Mapping):
        return pytypes.GenericAlias(dict, (args[0], wire_type(args[1])) if args else (str, Any))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        kinds = {type(member.value) for member in annotation}
        return kinds.pop() if len(kinds) == 1 else Any
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if annotation not in _NESTED:
            _NESTED[annotation] = wire_model(annotation)
        return _NESTED[annotation]
    return annotation


__all__ = ["WireModel", "wire_model", "wire_type"]
