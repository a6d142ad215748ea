"""The shape of a MongoDB command: what it asks the server to do, without the values.

A filter `{"doctorId": ObjectId(..), "start": {"$gte": d1, "$lt": d2}}` has the clause shapes
`x=oid` and `x{$gte:date,$lt:date}`: field names become `x` (`x.x` for a dotted path, `N` for an
array index, `_id` stays), values become their BSON type. Two commands with the same clause
shapes ask the server the same question of semantics, which is what the conformance tests in
this folder prove on the server under test. Pure functions; `capture.py` feeds them.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping
from typing import Any

from bson import ObjectId, Regex

LOGICAL = ("$and", "$or", "$nor")


def path_kind(path: str) -> str:
    if path == "_id":
        return "_id"
    return ".".join("N" if part.isdigit() else ("$" if part.startswith("$") else "x") for part in path.split("."))


def value_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, ObjectId):
        return "oid"
    if isinstance(value, datetime.datetime):
        return "date"
    if isinstance(value, re.Pattern | Regex):
        return "regex"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "doc"
    if isinstance(value, bytes):
        return "bin"
    return type(value).__name__


def _is_operator_doc(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(str(k).startswith("$") for k in value)


def _operand(op: str, value: Any) -> str:
    if op in ("$elemMatch",):
        return "(" + ",".join(sorted(filter_clauses(value))) + ")" if not _is_operator_doc(value) \
            else "(" + _operators(value) + ")"
    if op == "$not":
        return "(" + (_operators(value) if _is_operator_doc(value) else value_type(value)) + ")"
    return value_type(value)


def _operators(doc: Mapping[str, Any]) -> str:
    # $options travels with $regex; its value is not part of the question asked.
    return ",".join(f"{op}:{_operand(op, v)}" for op, v in sorted(doc.items()) if op != "$options") + \
        (",$options" if "$options" in doc else "")


def filter_clauses(query: Mapping[str, Any] | None) -> Iterator[str]:
    """One shape per top-level clause; `$and`/`$or`/`$nor` keep their sub-filters' shapes."""
    for key, value in (query or {}).items():
        if key in LOGICAL:
            branches = sorted("&".join(sorted(filter_clauses(branch))) for branch in value)
            yield f"{key}[{' | '.join(branches)}]"
        elif key.startswith("$"):
            yield f"{key}:{value_type(value)}"
        elif _is_operator_doc(value):
            yield f"{path_kind(key)}{{{_operators(value)}}}"
        else:
            yield f"{path_kind(key)}={value_type(value)}"


def update_clauses(update: Any) -> Iterator[str]:
    """One shape per (operator, path kind, value type) of an update document or pipeline."""
    if isinstance(update, list):
        yield "pipeline[" + ",".join(next(iter(stage)) for stage in update) + "]"
        return
    if not _is_operator_doc(update):
        yield "replacement"
        return
    for op, fields in update.items():
        for path, value in fields.items():
            if isinstance(value, Mapping) and _is_operator_doc(value):
                yield f"{op} {path_kind(path)}{{{','.join(sorted(value))}}}"
            elif op == "$pull" and isinstance(value, Mapping):
                yield f"{op} {path_kind(path)}=cond"
            else:
                yield f"{op} {path_kind(path)}={value_type(value)}"


def sort_shape(sort: Mapping[str, Any] | None) -> list[str]:
    return ["sort " + ",".join(path_kind(k) for k in sort)] if sort else []


def projection_shape(projection: Mapping[str, Any] | None) -> list[str]:
    if not projection:
        return []
    kinds = set()
    for key, value in projection.items():
        if isinstance(value, Mapping):
            kinds.add(f"{path_kind(key)}:{','.join(sorted(value))}")
        elif key == "_id":
            continue
        else:
            kinds.add("include" if value else "exclude")
    return [f"projection {k}" for k in sorted(kinds)]


def stage_clauses(pipeline: list[Mapping[str, Any]]) -> Iterator[str]:
    for stage in pipeline:
        name, body = next(iter(stage.items()))
        if name == "$match":
            for clause in filter_clauses(body):
                yield f"$match {clause}"
        elif name == "$group":
            # Repeats kept: FerretDB computes only the first of several accumulators.
            accumulators = sorted(next(iter(v)) for k, v in body.items() if k != "_id" and isinstance(v, Mapping))
            key = body.get("_id")
            key_kind = "doc" if isinstance(key, Mapping) else ("field" if isinstance(key, str) else value_type(key))
            yield f"$group _id={key_kind} {','.join(accumulators)}"
        elif name in ("$sort",):
            yield f"$sort {','.join(path_kind(k) for k in body)}"
        else:
            yield name


def command_shapes(name: str, cmd: Mapping[str, Any]) -> list[str]:
    """Every shape a command uses, each prefixed by the command's name. Unknown commands: none."""
    shapes: list[str] = []
    if name in ("find", "count", "distinct"):
        query = cmd.get("filter") if name == "find" else cmd.get("query")
        shapes += [f"{name} {c}" for c in filter_clauses(query)]
        shapes += [f"{name} {s}" for s in sort_shape(cmd.get("sort")) + projection_shape(cmd.get("projection"))]
    elif name == "findAndModify":
        shapes += [f"findAndModify {c}" for c in filter_clauses(cmd.get("query"))]
        shapes += [f"findAndModify {s}" for s in sort_shape(cmd.get("sort")) + projection_shape(cmd.get("fields"))]
        if cmd.get("remove"):
            shapes.append("findAndModify remove")
        else:
            shapes += [f"findAndModify {u}" for u in update_clauses(cmd.get("update"))]
        if cmd.get("upsert"):
            shapes.append("findAndModify upsert")
    elif name == "update":
        for statement in cmd.get("updates", []):
            shapes += [f"update {c}" for c in filter_clauses(statement.get("q"))]
            shapes += [f"update {u}" for u in update_clauses(statement.get("u"))]
            shapes += ["update upsert"] if statement.get("upsert") else []
            shapes += ["update arrayFilters"] if statement.get("arrayFilters") else []
    elif name == "delete":
        for statement in cmd.get("deletes", []):
            shapes += [f"delete {c}" for c in filter_clauses(statement.get("q"))]
    elif name == "aggregate":
        shapes += [f"aggregate {s}" for s in stage_clauses(cmd.get("pipeline", []))]
    elif name == "createIndexes":
        for index in cmd.get("indexes", []):
            options = sorted(k for k in index if k in ("unique", "sparse", "partialFilterExpression",
                                                        "expireAfterSeconds", "collation"))
            shapes.append(f"createIndexes keys={len(index['key'])} {' '.join(options)}".rstrip())
    return shapes


def filter_of(name: str, cmd: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The filters a command selects documents with (for the index-coverage check)."""
    if name == "find":
        return [cmd.get("filter") or {}]
    if name in ("count", "distinct", "findAndModify"):
        return [cmd.get("query") or {}]
    if name == "update":
        return [s.get("q") or {} for s in cmd.get("updates", [])]
    if name == "delete":
        return [s.get("q") or {} for s in cmd.get("deletes", [])]
    if name == "aggregate":
        first = (cmd.get("pipeline") or [{}])[0]
        return [first.get("$match", {})] if "$match" in first else [{}]
    return []


def equality_fields(query: Mapping[str, Any]) -> set[str]:
    """Top-level fields compared for equality (plain value or `$eq`); `_id` also with `$in`."""
    fields = set()
    for key, value in query.items():
        if key.startswith("$"):
            continue
        if not _is_operator_doc(value) or "$eq" in value or (key == "_id" and "$in" in value):
            fields.add(key)
    return fields


def range_fields(query: Mapping[str, Any]) -> set[str]:
    """Top-level fields compared with a range operator."""
    return {key for key, value in query.items()
            if not key.startswith("$") and _is_operator_doc(value) and {"$lt", "$lte", "$gt", "$gte"} & set(value)}
