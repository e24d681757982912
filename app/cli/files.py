"""CSV and JSON files for the import and export commands: decoding, header mapping, cell parsing, error reports.

A file is read into request bodies (one per data row), validated with the API's schema, then handed to the same bulk
service function the API uses, inside one transaction: a bad row anywhere means nothing is written. Problems are
reported by line of the CSV file (the header is line 1) or by item of the JSON array, with the field, and the
command exits 2; any other failure exits 1.
"""

import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, get_args

import typer
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from app.cli.output import stderr, table
from app.errors import InvalidInput, errors_from_pydantic
from app.schemas.merge import merge_base

M = TypeVar("M", bound=BaseModel)
BAD_INPUT = 2
OTHER_ERROR = 1
MAX_SHOWN = 50
ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
SKIPPED = "\0skipped"  # the field name of an ignored display column
CellParser = Callable[[str], Any]
CellFormatter = Callable[[Any], str]


class BadInput(Exception):
    """The file cannot be imported; `problems` are (where, field, message) triples."""

    def __init__(self, problems: list[tuple[str, str | None, str]]) -> None:
        super().__init__(problems[0][2] if problems else "bad input")
        self.problems = problems


@dataclass
class Loaded:
    """Bodies read from a file, and for each the place it came from ("line 5" or "item 3")."""

    bodies: list[dict[str, Any]]
    where: list[str]
    kind: str  # "csv" or "json"
    fields: list[str] = field(default_factory=list)  # CSV: the fields its header names


@dataclass
class Columns:
    """How a model maps to flat CSV columns: header aliases and parsers/formatters of list-valued columns."""

    model: type[BaseModel]
    aliases: Mapping[str, str] = field(default_factory=dict)  # header as written (any case) -> field name
    parsers: Mapping[str, CellParser] = field(default_factory=dict)
    formatters: Mapping[str, CellFormatter] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # field -> how to name it in messages, e.g. "grade (考核等次)"
    ignored: frozenset[str] = frozenset()  # headers of display columns whose cells are skipped (a name list's 县区)

    @property
    def fields(self) -> list[str]:
        """Column order of an export: code and name first, then the model's order."""
        first = {"code": 0, "name": 1}
        return sorted(self.model.model_fields, key=lambda f: first.get(f, 2))

    def field_for(self, header: str) -> str | None:
        """The field a header cell names (field names and aliases, any case), or None."""
        key = header.strip().lower()
        names = {**{f.lower(): f for f in self.model.model_fields}, **{a.lower(): f for a, f in self.aliases.items()}}
        return names.get(key)


def file_format(path: Path) -> str:
    """ "csv" or "json", by the file's extension."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".json"):
        return suffix[1:]
    raise BadInput([("file", None, f"{path.name}: unknown file type {suffix or '(none)'!r}; use .csv or .json")])


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (what Chinese Excel writes)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first = exc
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        line = data[:first.start].count(b"\n") + 1
        raise BadInput([(f"line {line}", None, f"bytes at offset {first.start} are neither UTF-8 nor GB18030; "
                                               "save the file as UTF-8 or GB18030 (GBK)")]) from first


def read_file(path: Path, columns: Columns, *, provided: Sequence[str] = ()) -> Loaded:
    """Read a CSV or JSON file into request bodies (not yet validated); `provided` fields need no column."""
    fmt = file_format(path)
    data = path.read_bytes()  # an unreadable file is an operational error (exit 1), not bad input
    text = decode(data)
    return _read_csv(text, columns, provided) if fmt == "csv" else _read_json(text)


def _read_json(text: str) -> Loaded:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput([(f"line {exc.lineno}", None, f"not valid JSON: {exc.msg} (column {exc.colno})")]) from exc
    if not isinstance(items, list):
        raise BadInput([("file", None, "a JSON file must hold an array of objects")])
    where = [f"item {i + 1} (index {i})" for i in range(len(items))]
    problems: list[tuple[str, str | None, str]] = [
        (where[i], None, "not a JSON object") for i, item in enumerate(items) if not isinstance(item, dict)]
    if problems:
        raise BadInput(problems)
    return Loaded(items, where, "json")


def _read_csv(text: str, columns: Columns, provided: Sequence[str]) -> Loaded:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise BadInput([("line 1", None, "the file is empty; the first line must name the columns")]) from None
    except csv.Error as exc:
        raise BadInput([("line 1", None, f"not valid CSV: {exc}")]) from exc
    names = _header_fields(header, columns, provided)
    bodies: list[dict[str, Any]] = []
    where: list[str] = []
    problems: list[tuple[str, str | None, str]] = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise BadInput([(f"line {start}", None, f"not valid CSV: {exc}")]) from exc
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank lines, or rows Excel left with only separators
        here = f"line {start}"
        if any(c.strip() for c in cells[len(names):]):
            problems.append((here, None, f"{len(cells)} cells but the header names {len(names)} columns"))
            continue
        body: dict[str, Any] = {}
        for i, (name, cell) in enumerate(zip(names, cells, strict=False)):
            if name == SKIPPED:
                continue
            if not name:  # a column without a header (Excel keeps stray columns) may only hold blanks
                if cell.strip():
                    problems.append((here, None, f"a value ({cell.strip()!r}) in column {i + 1}, which has no header"))
                continue
            try:
                _put(body, name, cell, columns)
            except ValueError as exc:
                problems.append((here, name, str(exc)))
        bodies.append(body)
        where.append(here)
    if problems:
        raise BadInput(problems)
    return Loaded(bodies, where, "csv", [n for n in names if n and n != SKIPPED])


def _header_fields(header: list[str], columns: Columns, provided: Sequence[str]) -> list[str]:
    """The model field of every header cell; unknown, repeated or missing required columns are reported."""
    problems: list[tuple[str, str | None, str]] = []
    names: list[str] = []
    for cell in header:
        if not cell.strip():
            names.append("")
            continue
        if cell.strip() in columns.ignored:
            names.append(SKIPPED)
            continue
        name = columns.field_for(cell)
        if name is None:
            problems.append(("line 1", cell.strip(), f"unknown column {cell.strip()!r}; "
                                                     f"expected some of: {', '.join(_expected(columns))}"))
        elif name in names:
            problems.append(("line 1", cell.strip(), f"column {columns.labels.get(name, name)} appears twice"))
        names.append(name or "")
    required = [f for f, info in columns.model.model_fields.items() if info.is_required()]
    problems += [("line 1", f, f"missing column {columns.labels.get(f, f)}") for f in required
                 if f not in names and f not in provided]
    if problems:
        raise BadInput(problems)
    return names


def _expected(columns: Columns) -> list[str]:
    return [columns.labels.get(f, f) for f in columns.fields]


CODE_FIELDS = frozenset({"code", "county_code", "township_code", "home_region_code", "org_region_code",
                         "village", "specialist", "county", "members", "leader"})
EXCEL_NUMBER = re.compile(r"^[0-9]+\.0+$|^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$")


def _put(body: dict[str, Any], name: str, cell: str, columns: Columns) -> None:
    """Store one CSV cell: an empty cell is null where the field allows it and otherwise leaves the default."""
    value = cell.strip()
    if value == "":
        if _nullable(columns.model, name):
            body[name] = None
        return
    if name in CODE_FIELDS and EXCEL_NUMBER.match(value):
        raise ValueError(f"{value!r} looks like a code Excel turned into a number (it drops leading zeros and "
                         "digits); format the column as text and enter the code again")
    if name in columns.parsers:
        body[name] = columns.parsers[name](value)
    elif _is_bool(columns.model, name) and value in ("是", "否"):
        body[name] = value == "是"
    else:
        body[name] = value


@lru_cache
def _nullable(model: type[BaseModel], name: str) -> bool:
    try:
        # pydantic types FieldInfo.annotation as Optional, though a model's fields always have one
        TypeAdapter(model.model_fields[name].annotation).validate_python(None)  # type: ignore[arg-type]
        return True
    except ValidationError:
        return False


@lru_cache
def _is_bool(model: type[BaseModel], name: str) -> bool:
    annotation = model.model_fields[name].annotation
    return annotation is bool or bool in get_args(annotation)


def validate(loaded: Loaded, model: type[M]) -> list[M]:
    """Validate every body with the API's schema; every problem of every row is reported."""
    out: list[M] = []
    problems: list[tuple[str, str | None, str]] = []
    for i, body in enumerate(loaded.bodies):
        try:
            out.append(model.model_validate(body))
        except ValidationError as exc:
            problems += [(loaded.where[i], e["field"], e["message"])
                         for e in errors_from_pydantic(list(exc.errors()), skip=0)]
    if problems:
        raise BadInput(problems)
    return out


def service_problems(exc: InvalidInput, where: Sequence[str]) -> list[tuple[str, str | None, str]]:
    """The {row, field, message} errors of a service, with rows turned into lines or items of the file."""

    def place(row: Any) -> str:
        return where[row] if isinstance(row, int) and 0 <= row < len(where) else "file"

    def reword(message: str) -> str:  # "(first at row 0)" -> "(first at line 2)"
        return re.sub(r"\brow (\d+)", lambda m: place(int(m.group(1))), message)

    if not exc.errors:
        return [("file", None, exc.message)]
    return [(place(e.get("row")), e.get("field"), reword(str(e.get("message", "")))) for e in exc.errors]


def report(problems: list[tuple[str, str | None, str]], *, name: str, kind: str | None) -> None:
    """Print the problems to stderr, most relevant first, and say that nothing was written."""
    how = {"csv": " (lines count from 1; the header is line 1)", "json": " (items of the array count from 1)"}
    lines = [f"error: {name}: {len(problems)} problem(s); nothing was written{how.get(kind or '', '')}"]
    for where, fld, message in problems[:MAX_SHOWN]:
        lines.append(f"  {where}, field {fld}: {message}" if fld else f"  {where}: {message}")
    if len(problems) > MAX_SHOWN:
        lines.append(f"  ... and {len(problems) - MAX_SHOWN} more")
    stderr("\n".join(lines))


def _labelled(problems: list[tuple[str, str | None, str]], columns: Columns,
              kind: str | None) -> list[tuple[str, str | None, str]]:
    """Fields of a CSV file named as its header may name them, e.g. "grade (考核等次)"."""
    if kind != "csv":
        return problems
    return [(w, columns.labels.get(f, f) if f else f, m) for w, f, m in problems]




def import_file(path: Path, *, columns: Columns, bulk: Callable[..., tuple[int, ...]], title: str,
                override: Mapping[str, Any] | None = None,
                stored: Callable[[Session], list[dict[str, Any]]] | None = None) -> None:
    """Read, validate and write a whole file in one transaction, then print the counts; exit 2 on bad input.

    With `stored` (the entries as bodies, by code), a CSV without some columns keeps those fields' stored values
    for the entries it updates, instead of resetting them to their defaults.
    """
    from app.db import session_scope

    kind: str | None = None
    where: list[str] = []
    try:
        kind = file_format(path)
        loaded = read_file(path, columns, provided=list(override or {}))
        where = loaded.where
        for body in loaded.bodies:
            body.update(override or {})
        with session_scope() as session:
            if stored is not None:
                keep_absent(loaded, columns, stored=stored, session=session, provided=list(override or {}))
            rows = validate(loaded, columns.model)
            counts = bulk(session, rows=rows)  # (created, updated[, unchanged])
    except BadInput as exc:
        report(_labelled(exc.problems, columns, kind), name=path.name, kind=kind)
        raise typer.Exit(BAD_INPUT) from None
    except InvalidInput as exc:
        report(_labelled(service_problems(exc, where), columns, kind), name=path.name, kind=kind)
        raise typer.Exit(BAD_INPUT) from None
    except OSError as exc:
        stderr(f"error: cannot read {path}: {exc.strerror or exc}; nothing was written")
        raise typer.Exit(OTHER_ERROR) from None
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        hint = "; is the database migrated (`jiedui db upgrade`)?" if "no such table" in first or \
            "does not exist" in first else ""
        stderr(f"error: {path.name}: {type(exc).__name__}: {first}{hint}; nothing was written")
        raise typer.Exit(OTHER_ERROR) from None
    table(title, {"file": str(path), "rows": len(rows), **dict(zip(("created", "updated", "unchanged"), counts, strict=False))})


def keep_absent(loaded: Loaded, columns: Columns, *, stored: Callable[[Session], list[dict[str, Any]]],
                session: Session, provided: Sequence[str]) -> None:
    """Fill the fields a CSV has no column for from the stored entry of the same code, where there is one."""
    absent = [f for f in columns.model.model_fields if f not in loaded.fields and f not in provided]
    if loaded.kind != "csv" or not absent:
        return
    by_code = {body["code"]: body for body in stored(session)}
    for body in loaded.bodies:
        old = by_code.get(str(body.get("code", "")).strip())
        if old is not None:  # as a PATCH merges: a changed kind still decides excluded and team members
            base = merge_base(old, body)
            body.update({f: base[f] for f in absent if f in base})


def export_file(path: Path, *, columns: Columns, fetch: Callable[[Session], list[dict[str, Any]]], title: str,
                encoding: str | None) -> None:
    """Write bodies as JSON (an array) or CSV (flat columns, UTF-8 with BOM unless told otherwise)."""
    from app.db import session_scope

    try:
        fmt = file_format(path)
        if encoding is not None and encoding.lower() not in ENCODINGS:
            raise BadInput([("option", "--encoding", f"unknown encoding {encoding!r}; use {', '.join(ENCODINGS)}")])
    except BadInput as exc:
        report(exc.problems, name=path.name, kind=None)
        raise typer.Exit(BAD_INPUT) from None
    try:
        with session_scope() as session:
            bodies = fetch(session)
        if fmt == "json":
            text = json.dumps(bodies, ensure_ascii=False, indent=2) + "\n"
            path.write_text(text, encoding=(encoding or "utf-8").lower())
        else:
            with path.open("w", encoding=(encoding or "utf-8-sig").lower(), newline="") as out:
                writer = csv.writer(out)
                writer.writerow(columns.fields)
                writer.writerows([_cell(columns, f, body.get(f)) for f in columns.fields] for body in bodies)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        stderr(f"error: {path.name}: {type(exc).__name__}: {first}")
        raise typer.Exit(OTHER_ERROR) from None
    table(title, {"file": str(path), "rows": len(bodies)})


def number(value: float | int) -> str:
    """A number as written in a cell: integral values without ".0", others exactly (shortest round-trip form)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _cell(columns: Columns, name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in columns.formatters:
        return columns.formatters[name](value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value)
    return str(value)


def split_list(value: str) -> list[str]:
    """Items of a list cell separated by ";" (or the full-width "；"), blanks dropped."""
    return [p.strip() for p in value.replace("；", ";").split(";") if p.strip()]
