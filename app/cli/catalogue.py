"""`jiedui catalogue ...`: import and export counties, townships, villages, specialists and industries as CSV or JSON.

JSON files hold an array of the API's request bodies. CSV files have one column per body field; list fields are
packed into one cell: village `needs` as `tea:2*;rural_tourism:1` (industry:weight, `*` marks the primary need),
specialist `expertise` as `tea:3;vegetables:2` (industry:proficiency) and `members` as `TP00001;TP00002`.
An empty cell is null where the field allows it (e.g. max_distance_km: no limit) and the default otherwise.
Export writes the same format, so export -> import round-trips.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli.files import Columns, export_file, import_file, number, split_list
from app.schemas.industries import IndustryIn
from app.schemas.regions import CountyIn, TownshipIn
from app.schemas.specialists import SpecialistIn
from app.schemas.villages import VillageIn

if TYPE_CHECKING:
    from app.services.bulk import BulkCounts

app = typer.Typer(help="Catalogue files: import (all or nothing) and export, as CSV or JSON.", no_args_is_help=True)

NEED = re.compile(r"^(?P<industry>[^:*]+?)\s*(?::\s*(?P<weight>[^*]*?))?\s*(?P<primary>\*)?$")


class Kind(str, Enum):
    counties = "counties"
    townships = "townships"
    villages = "villages"
    specialists = "specialists"
    industries = "industries"


def parse_needs(cell: str) -> list[dict[str, Any]]:
    """`tea:2*;rural_tourism:1` -> needs (the weight may be left out; `*` marks the primary need)."""
    out = []
    for item in split_list(cell.replace("：", ":")):
        m = NEED.match(item)
        if m is None or m["weight"] == "":
            raise ValueError(f"cannot read need {item!r}; write industry:weight, with * after the primary one, "
                             "separated by ; (e.g. tea:2*;rural_tourism:1)")
        need: dict[str, Any] = {"industry": m["industry"]}
        if m["weight"] is not None:
            need["weight"] = m["weight"]
        if m["primary"]:
            need["primary"] = True
        out.append(need)
    return out


def format_needs(needs: list[dict[str, Any]]) -> str:
    return ";".join(f"{n['industry']}:{number(n['weight'])}{'*' if n['primary'] else ''}" for n in needs)


def parse_expertise(cell: str) -> list[dict[str, Any]]:
    """`tea:3;vegetables:2` -> expertise (industry:proficiency, proficiency 1-3)."""
    out = []
    for item in split_list(cell.replace("：", ":")):
        industry, sep, proficiency = item.partition(":")
        if not sep or not industry.strip() or not proficiency.strip():
            raise ValueError(f"cannot read expertise {item!r}; write industry:proficiency separated by ; "
                             "(e.g. tea:3;vegetables:2)")
        out.append({"industry": industry.strip(), "proficiency": proficiency.strip()})
    return out


def format_expertise(expertise: list[dict[str, Any]]) -> str:
    return ";".join(f"{e['industry']}:{e['proficiency']}" for e in expertise)


def _plain(model: type[BaseModel], table: Any) -> Callable[[Session], list[dict[str, Any]]]:
    """Fetch every row of a simple table as request bodies, by code."""

    def fetch(session: Session) -> list[dict[str, Any]]:
        return [{f: getattr(row, f) for f in model.model_fields}
                for row in session.scalars(select(table).order_by(table.code))]

    return fetch


def _villages(session: Session) -> list[dict[str, Any]]:
    from app.services.industries import industry_codes_by_id
    from app.services.villages import village_out
    from models import Village

    codes = industry_codes_by_id(session)
    out = []
    for village in session.scalars(select(Village).order_by(Village.code)):
        body = village_out(village, codes)
        body["needs"] = [{k: n[k] for k in ("industry", "weight", "primary")} for n in body["needs"]]
        out.append({f: body[f] for f in VillageIn.model_fields})
    return out


def _specialists(session: Session) -> list[dict[str, Any]]:
    from app.services.specialists import specialists_out
    from models import Specialist

    rows = list(session.scalars(select(Specialist).order_by(Specialist.code)))
    return [{f: body[f] for f in SpecialistIn.model_fields} for body in specialists_out(session, specialists=rows)]


@dataclass
class KindSpec:
    columns: Columns
    bulk: Callable[..., "BulkCounts"]
    fetch: Callable[[Session], list[dict[str, Any]]]


def spec(kind: Kind) -> KindSpec:
    """Schema, bulk upsert and export query of one kind (imported late: the CLI starts without the services)."""
    from app.services.industries import bulk_upsert_industries
    from app.services.regions import bulk_upsert_counties, bulk_upsert_townships
    from app.services.specialists import bulk_upsert_specialists
    from app.services.villages import bulk_upsert_villages
    from models import County, Industry, Township

    return {
        Kind.counties: KindSpec(Columns(CountyIn), bulk_upsert_counties, _plain(CountyIn, County)),
        Kind.townships: KindSpec(Columns(TownshipIn), bulk_upsert_townships, _plain(TownshipIn, Township)),
        Kind.industries: KindSpec(Columns(IndustryIn), bulk_upsert_industries, _plain(IndustryIn, Industry)),
        Kind.villages: KindSpec(Columns(VillageIn, parsers={"needs": parse_needs},
                                        formatters={"needs": format_needs}), bulk_upsert_villages, _villages),
        Kind.specialists: KindSpec(
            Columns(SpecialistIn, parsers={"expertise": parse_expertise, "members": split_list},
                    formatters={"expertise": format_expertise, "members": ";".join}),
            bulk_upsert_specialists, _specialists),
    }[kind]


@app.command("import")
def import_(
    kind: Kind = typer.Argument(..., help="what the file holds"),
    file: Path = typer.Argument(..., help="a .csv (UTF-8 or GB18030) or .json file (array of API bodies)"),
) -> None:
    """Upsert a catalogue file, all or nothing; exit 2 naming line and field if any row is bad.

    A CSV may hold only some columns: the entries it updates keep their stored values of the others. Entries
    identical to the stored ones (children included) are counted as unchanged and keep their version.
    """
    s = spec(kind)
    import_file(file, columns=s.columns, bulk=s.bulk, title=f"{kind.value} imported", stored=s.fetch)


@app.command("export")
def export(
    kind: Kind = typer.Argument(..., help="what to write"),
    file: Path = typer.Argument(..., help="a .csv or .json file to write"),
    encoding: str | None = typer.Option(None, "--encoding",
                                        help="utf-8-sig (CSV default: Excel opens it), utf-8 or gb18030"),
) -> None:
    """Write one kind of catalogue entry in the format `catalogue import` reads."""
    s = spec(kind)
    export_file(file, columns=s.columns, fetch=s.fetch, title=f"{kind.value} exported", encoding=encoding)
