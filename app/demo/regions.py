"""Read the shipped 六安市 division CSVs (see data/SOURCES.md) into region bodies and plain village rows."""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.schemas.regions import CountyIn, TownshipIn

DATA_DIR = Path(__file__).resolve().parent / "data"
DATUM = "GCJ-02"


@dataclass(frozen=True)
class Point:
    lon: float
    lat: float


def _read(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache
def points() -> dict[str, Point]:
    """Administrative-centre points (GCJ-02) by county or township code; units without one are absent."""
    out: dict[str, Point] = {}
    for r in _read("coords_luan.csv"):
        if r["lon_gcj02"] and r["lat_gcj02"]:
            out[r["code"]] = Point(float(r["lon_gcj02"]), float(r["lat_gcj02"]))
    return out


def _located(code: str) -> dict[str, object]:
    p = points().get(code)
    return {"lon": p.lon, "lat": p.lat, "datum": DATUM} if p else {"lon": None, "lat": None, "datum": None}


def counties() -> list[CountyIn]:
    """The 7 county-level units with their centre points."""
    return [CountyIn(code=r["county_code"], name=r["county_name"], **_located(r["county_code"]))  # type: ignore[arg-type]
            for r in _read("counties_luan.csv")]


def townships() -> list[TownshipIn]:
    """The 146 township-level units; 12 have no point in the source and are left without coordinates."""
    return [TownshipIn(code=r["township_code"], name=r["township_name"], **_located(r["township_code"]))  # type: ignore[arg-type]
            for r in _read("townships_luan.csv")]


@lru_cache
def _village_rows() -> tuple[dict[str, str], ...]:
    return tuple(_read("villages_luan.csv"))


def villages() -> list[dict[str, str]]:
    """The 1,970 village-level units as plain dicts: code, name, kind, township/county code and name, ur_code_2016."""
    return [
        {"code": r["village_code"], "name": r["village_name"], "kind": r["village_kind"],
         "township_code": r["township_code"], "township_name": r["township_name"],
         "county_code": r["county_code"], "county_name": r["county_name"], "ur_code_2016": r["ur_code_2016"]}
        for r in _village_rows()
    ]


def point_for(code: str) -> Point | None:
    """The best known point for a township (its own, else its county's) or a county."""
    return points().get(code) or points().get(code[:6])
