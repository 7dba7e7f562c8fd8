"""tools/base.py compact_schema: smaller tools/list schemas with the same meaning."""

from __future__ import annotations

from typing import Any

from tools.base import compact_schema

DIMENSION = {"enum": ["plan", "country"], "type": "string", "description": "Dimension", "title": "Dimension"}
REASON = {"enum": ["late_payment"], "type": "string"}


def _input(properties: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "title": "args", "properties": properties, "$defs": defs}


def test_a_definition_used_once_is_written_in_place() -> None:
    schema = _input({"filters": {"type": "object", "propertyNames": {"$ref": "#/$defs/Dimension"}}},
                    {"Dimension": DIMENSION})
    assert compact_schema(schema) == {"type": "object", "properties": {
        "filters": {"type": "object", "propertyNames": {"enum": ["plan", "country"], "type": "string"}}}}


def test_a_definition_used_twice_stays_a_reference_and_the_others_are_inlined() -> None:
    schema = _input({"dimension": {"$ref": "#/$defs/Dimension"},
                     "filters": {"type": "object", "propertyNames": {"$ref": "#/$defs/Dimension"}},
                     "reasons": {"type": "array", "items": {"$ref": "#/$defs/Reason"}}},
                    {"Dimension": DIMENSION, "Reason": REASON})
    compacted = compact_schema(schema)
    assert compacted["$defs"] == {"Dimension": {"enum": ["plan", "country"], "type": "string"}}
    assert compacted["properties"]["dimension"] == {"$ref": "#/$defs/Dimension"}
    assert compacted["properties"]["reasons"] == {"type": "array", "items": REASON}


def test_a_definition_that_refers_to_another_is_kept() -> None:
    schema = _input({"pair": {"$ref": "#/$defs/Pair"}},
                    {"Pair": {"type": "array", "items": {"$ref": "#/$defs/Reason"}}, "Reason": REASON})
    compacted = compact_schema(schema)
    assert compacted["properties"]["pair"] == {"$ref": "#/$defs/Pair"}
    assert compacted["$defs"] == {"Pair": {"type": "array", "items": REASON}}
