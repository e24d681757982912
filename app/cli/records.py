"""`jiedui records ...`: import and export service records (服务记录) as CSV or JSON."""

from pathlib import Path
from typing import Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli.files import Columns, export_file, import_file
from app.schemas.records import ServiceRecordIn
from app.services.export import PAIR_HEADERS

app = typer.Typer(help="Service records: grade, service days and visits per season and pairing.", no_args_is_help=True)

# Header cells a file may use for each field (English as in the API, or the Chinese of a bureau's spreadsheet).
ALIASES = {
    "季度": "season", "年度": "season", "季度/年度": "season", "年度/季度": "season", "服务季度": "season",
    "specialist_code": "specialist", "特派员编号": "specialist", "特派员代码": "specialist",
    "village_code": "village", "区划代码": "village", "行政村代码": "village", "村代码": "village",
    "考核等次": "grade", "考核等级": "grade", "服务天数": "service_days", "服务次数": "visits", "备注": "note",
}
LABELS = {"season": "season (季度/年度)", "specialist": "specialist (特派员编号)", "village": "village (区划代码)",
          "grade": "grade (考核等次)", "service_days": "service_days (服务天数)", "visits": "visits (服务次数)",
          "note": "note (备注)"}
# The name list's other columns (县区, 乡镇, 特派员 ...): a planner may grade the exported list and import it.
NAME_LIST_ONLY = frozenset(h for h in PAIR_HEADERS if h not in ALIASES)
COLUMNS = Columns(ServiceRecordIn, aliases=ALIASES, labels=LABELS, ignored=NAME_LIST_ONLY)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="a .csv (UTF-8 or GB18030; English or Chinese headers) or .json file"),
    season: str | None = typer.Option(None, "--season", help="season of every row (fills or overrides the column)"),
) -> None:
    """Upsert service records from a file, all or nothing; exit 2 naming line and field if any row is bad."""
    from app.services.records import bulk_upsert_records

    import_file(file, columns=COLUMNS, bulk=bulk_upsert_records, title="service records imported",
                override={"season": season} if season is not None else None)


@app.command("export")
def export(
    file: Path = typer.Argument(..., help="a .csv or .json file to write"),
    season: str | None = typer.Option(None, "--season", help="only this season"),
    encoding: str | None = typer.Option(None, "--encoding", help="utf-8-sig (CSV default), utf-8 or gb18030"),
) -> None:
    """Write service records in the format `records import` reads."""

    def fetch(session: Session) -> list[dict[str, Any]]:
        from models import ServiceRecord

        stmt = select(ServiceRecord).order_by(ServiceRecord.season, ServiceRecord.specialist_code,
                                              ServiceRecord.village_code)
        if season is not None:
            stmt = stmt.where(ServiceRecord.season == season)
        return [{"season": r.season, "specialist": r.specialist_code, "village": r.village_code, "grade": r.grade,
                 "service_days": r.service_days, "visits": r.visits, "note": r.note} for r in session.scalars(stmt)]

    export_file(file, columns=COLUMNS, fetch=fetch, title="service records exported", encoding=encoding)

