"""Creating objects the way 1C's standard OData interface does (reference 17.4.13.1.2).

A POST to an entity set carries the new object's fields as JSON. Properties the
object does not have are ignored; the rest must have values of their Edm type, or
1C answers `odata.error` code 4 (wrong property value). What the body leaves out
gets the empty value of its type; 1C fills `Ref_Key` (unless given), `DataVersion`
and, for a document, the next `Number`. A composite field's `<Name>_Type` must name
an entity set of the base, and `<Name>` then that object's guid. Fill checking
(`ПроверкаЗаполнения`) is an interactive-write feature and is not run for OData
writes, so empty strings pass.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from bridge.onec.demo import data

Entity = dict[str, Any]
CODE_BAD_REQUEST = "2"
CODE_BAD_VALUE = "4"
EMPTY_DATE = "0001-01-01T00:00:00"
_EMPTY: dict[str, Any] = {
    "Edm.Boolean": False,
    "Edm.Guid": data.EMPTY_REF,
    "Edm.DateTime": EMPTY_DATE,
    "Edm.String": "",
    "Edm.Int64": 0,
}


class WriteError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def new_object(base: data.Infobase, entity_set: str, body: Any) -> Entity:
    """The object as 1C would store and return it; raises `WriteError`."""
    if not isinstance(body, dict):
        raise WriteError(CODE_BAD_REQUEST, "Неверный формат запроса")
    props, parts = data.SCHEMA[entity_set]
    entity: Entity = {}
    for name, edm_type in props:
        entity[name] = _value(name, edm_type, body.get(name, _EMPTY[edm_type]))
    _check_composites(entity)
    for part, _ in parts:
        entity[part] = []
    ref = entity["Ref_Key"]
    if ref == data.EMPTY_REF or base.find(entity_set, ref) is not None:
        entity["Ref_Key"] = str(uuid.uuid4())
    entity["DataVersion"] = base.next_version()
    if "Number" in entity and not entity["Number"]:
        entity["Number"] = f"ТЗ-{len(base.sets[entity_set]) + 1:06d}"
    return entity


def _value(name: str, edm_type: str, value: Any) -> Any:
    if value is None and edm_type == "Edm.String":
        return ""
    if name.endswith("_Type"):
        return _type_name(name, value)
    if not _valid(edm_type, value):
        raise WriteError(CODE_BAD_VALUE, f"Неверное значение свойства '{name}'")
    return str(uuid.UUID(value)) if edm_type == "Edm.Guid" else value


def _valid(edm_type: str, value: Any) -> bool:
    if edm_type == "Edm.Boolean":
        return isinstance(value, bool)
    if edm_type == "Edm.Int64":
        return isinstance(value, int) and not isinstance(value, bool)
    if not isinstance(value, str):
        return False
    try:
        if edm_type == "Edm.Guid":
            uuid.UUID(value)
        elif edm_type == "Edm.DateTime":
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return True


def _check_composites(entity: Entity) -> None:
    """A composite field naming a reference type must hold that reference's guid."""
    for name, value in list(entity.items()):
        if not name.endswith("_Type") or value == "StandardODATA.Undefined":
            continue
        field = name.removesuffix("_Type")
        if not _valid("Edm.Guid", entity.get(field)):
            raise WriteError(CODE_BAD_VALUE, f"Неверное значение свойства '{field}'")


def _type_name(name: str, value: Any) -> str:
    """A composite field's type: `StandardODATA.<entity set>` the base knows."""
    known = {f"StandardODATA.{s}" for s in data.SCHEMA} | {"StandardODATA.Undefined"}
    if value == "":
        return "StandardODATA.Undefined"
    if value not in known:
        raise WriteError(CODE_BAD_VALUE, f"Неверное значение свойства '{name}'")
    return str(value)
