"""Per-pair overrides from other systems, read as a CSV stream into columns (up to a million pairs)."""

import csv
import hashlib
import io
import math
import re
from array import array
from typing import BinaryIO

import numpy as np

from app.errors import InvalidInput, PayloadTooLarge, row_error
from solver import PairTable

VILLAGE = re.compile(r"^[0-9]{12}$")
SPECIALIST = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
COLUMNS = {"specialist": "specialist", "特派员编号": "specialist", "village": "village", "区划代码": "village",
           "score": "score", "分值": "score", "effort_days": "effort_days", "工作天数": "effort_days"}


def _number(cell: str, *, low: float, high: float) -> float:
    if cell.strip() == "":
        return math.nan
    value = float(cell)
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"must be between {low:g} and {high:g}")
    return value


def read_override_csv(stream: BinaryIO, *, max_pairs: int) -> PairTable:
    """Parse `specialist,village[,score][,effort_days]` lines one at a time into a column table."""
    reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
    try:
        header = [COLUMNS.get(h.strip().lower(), COLUMNS.get(h.strip(), h.strip())) for h in next(reader)]
    except (StopIteration, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput("overrides: empty or not UTF-8 CSV",
                           errors=[row_error(None, "overrides", "expected a header line", line=1)]) from exc
    missing = [c for c in ("specialist", "village") if c not in header]
    unknown = [h for h in header if h not in ("specialist", "village", "score", "effort_days")]
    if missing or unknown:
        raise InvalidInput(f"overrides: header needs specialist and village (optional score, effort_days); "
                           f"missing {missing}, unknown {unknown}", errors=[row_error(None, "overrides", "bad header", line=1)])
    col = {name: header.index(name) for name in header}
    specialists: dict[str, int] = {}
    villages: dict[str, int] = {}
    s_col, v_col, score_col, days_col = array("i"), array("i"), array("d"), array("d")
    errors: list[dict[str, object]] = []
    try:
        for line, row in enumerate(reader, start=2):
            if len(s_col) >= max_pairs:
                raise PayloadTooLarge(f"overrides: more than {max_pairs} pairs in one submission")
            if not row:
                continue
            if len(row) < len(header):
                errors.append(row_error(line - 2, "overrides", f"{len(row)} cells, expected {len(header)}", line=line))
                continue
            sid, vid = row[col["specialist"]].strip(), row[col["village"]].strip()
            score = days = math.nan
            for name, low, high in (("score", 0.0, 1e6), ("effort_days", 0.0, 366.0)):
                if name in col:
                    try:
                        value = _number(row[col[name]], low=low, high=high)
                    except ValueError as exc:
                        errors.append(row_error(line - 2, f"overrides.{name}", str(exc), line=line))
                        continue
                    score, days = (value, days) if name == "score" else (score, value)
            if not SPECIALIST.match(sid):
                errors.append(row_error(line - 2, "overrides.specialist", f"malformed specialist code {sid!r}", line=line))
            if not VILLAGE.match(vid):
                errors.append(row_error(line - 2, "overrides.village", f"village code {vid!r} is not 12 digits", line=line))
            s_col.append(specialists.setdefault(sid, len(specialists)))
            v_col.append(villages.setdefault(vid, len(villages)))
            score_col.append(score)
            days_col.append(days)
    except UnicodeDecodeError as exc:
        raise InvalidInput("overrides: not UTF-8", errors=[row_error(None, "overrides", str(exc))]) from exc
    except csv.Error as exc:  # e.g. a cell beyond the csv module's field limit
        raise InvalidInput(f"overrides: unreadable CSV at line {reader.line_num}: {exc}",
                           errors=[row_error(None, "overrides", str(exc), line=reader.line_num)]) from exc
    if errors:
        raise InvalidInput(f"overrides: {len(errors)} bad line(s); first at line {errors[0]['line']}",
                           errors=errors[:1000])
    return PairTable(tuple(specialists), tuple(villages), np.frombuffer(s_col, np.int32),
                     np.frombuffer(v_col, np.int32), np.frombuffer(score_col, np.float64),
                     np.frombuffer(days_col, np.float64))


def table_digest(table: PairTable | None) -> str:
    """Content hash of an override table (for idempotency)."""
    if table is None:
        return ""
    h = hashlib.sha256("\x1f".join(table.specialists).encode() + b"\x1e" + "\x1f".join(table.villages).encode())
    for a in (table.s, table.v, table.score, table.effort_days):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def unknown_in_table(table: PairTable, *, specialists: set[str], villages: set[str]) -> list[dict[str, object]]:
    """Each id of the table outside the run's scope, with the first CSV line that names it."""
    errors = []
    for field, ids, column, known in (("specialist", table.specialists, table.s, specialists),
                                      ("village", table.villages, table.v, villages)):
        bad = [i for i, x in enumerate(ids) if x not in known]
        if bad:
            first = {int(k): int(np.argmax(column == k)) for k in bad}
            errors += [row_error(first[k], f"overrides.{field}", f"{field} {ids[k]} is not in the run's scope",
                                 line=first[k] + 2)
                       for k in bad[:1000]]
    return errors
