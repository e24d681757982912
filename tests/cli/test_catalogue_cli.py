"""`jiedui catalogue import/export`: JSON bodies or flat CSV, all or nothing, export -> import round-trips."""

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select

from app.db import get_sessionmaker
from models import (
    County,
    Specialist,
    SpecialistExpertise,
    TeamMember,
    Township,
    Village,
    VillageNeed,
)
from tests.cli.clihelp import run, specialist_bodies

COUNTIES = [{"code": "341525", "name": "霍山县", "lon": 116.333, "lat": 31.393}]
TOWNSHIPS = [{"code": "341525100", "name": "衡山镇"}, {"code": "341525101", "name": "佛子岭镇", "lon": 116.27,
                                                                           "lat": 31.33, "datum": "WGS-84"}]
VILLAGES: list[dict[str, Any]] = [
    {"code": "341525100201", "name": "甲村", "kind": "村委会", "lon": 116.34, "lat": 31.41, "poverty_alleviated": True,
     "needs": [{"industry": "rural_tourism", "weight": 0.35}, {"industry": "tea", "weight": 2, "primary": True}]},
    {"code": "341525100202", "name": "乙社区, \"新\"", "kind": "社区", "needs": []},
    {"code": "341525101201", "name": "丁村", "kind": "村委会", "three_areas": True, "excluded": True,
     "needs": [{"industry": "edible_fungi"}]},
]
SPECIALISTS: list[dict[str, Any]] = [
    {"code": "TP00001", "name": "张茶", "org_name": "安徽农业大学", "org_type": "university",
     "home_region_code": "341525100", "lon": 116.33, "lat": 31.40,
     "expertise": [{"industry": "tea", "proficiency": 3}, {"industry": "rural_tourism", "proficiency": 2}],
     "grade": "良好", "max_distance_km": None},
    {"code": "TP00002", "name": "李药", "expertise": [{"industry": "medicinal_herbs", "proficiency": 1}],
     "active": False, "service_days": 87.5, "capacity": 0},
    {"code": "TD001", "name": "茶叶服务团", "kind": "team", "members": ["TP00002", "TP00001"], "leader": "TP00001",
     "three_areas_programme": True, "programme_level": "provincial"},
]


def _write_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def _import(kind: str, path: Path) -> None:
    result = run("catalogue", "import", kind, str(path))
    assert result.exit_code == 0, result.output
    assert f"{kind} imported" in result.output


@pytest.fixture
def loaded(db: Engine, tmp_path: Path) -> Engine:
    for kind, rows in (("counties", COUNTIES), ("townships", TOWNSHIPS), ("villages", VILLAGES),
                       ("specialists", SPECIALISTS)):
        _import(kind, _write_json(tmp_path / f"{kind}.json", rows))
    return db


def _count(model: type) -> int:
    with get_sessionmaker()() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _wipe_villages_and_specialists() -> None:
    with get_sessionmaker()() as session:
        for model in (VillageNeed, Village, SpecialistExpertise, TeamMember, Specialist):
            session.execute(delete(model))
        session.commit()


def _export(kind: str, path: Path, *extra: str) -> Any:
    result = run("catalogue", "export", kind, str(path), *extra)
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text(encoding="utf-8")) if path.suffix == ".json" else path.read_bytes()


def test_json_import_stores_the_bodies(loaded: Engine, tmp_path: Path) -> None:
    villages = _export("villages", tmp_path / "v.json")
    assert villages[0]["needs"] == [{"industry": "rural_tourism", "weight": 0.35, "primary": False},
                                    {"industry": "tea", "weight": 2.0, "primary": True}]
    assert villages[1]["excluded"] is True  # a 社区 is excluded unless told otherwise
    team = [s for s in _export("specialists", tmp_path / "s.json") if s["code"] == "TD001"][0]
    assert (team["members"], team["leader"]) == (["TP00002", "TP00001"], "TP00001")


@pytest.mark.parametrize("suffix, extra", [(".csv", []), (".csv", ["--encoding", "gb18030"]), (".json", [])])
def test_export_import_round_trip(loaded: Engine, tmp_path: Path, suffix: str, extra: list[str]) -> None:
    before = {kind: _export(kind, tmp_path / f"{kind}{suffix}", *extra) for kind in ("villages", "specialists")}
    bodies = specialist_bodies()
    json_before = _export("villages", tmp_path / "villages-before.json")
    _wipe_villages_and_specialists()
    assert _count(Village) == 0 and _count(Specialist) == 0
    for kind in ("villages", "specialists"):
        _import(kind, tmp_path / f"{kind}{suffix}")
        assert _export(kind, tmp_path / f"{kind}-again{suffix}", *extra) == before[kind]
    assert _export("villages", tmp_path / "villages-after.json") == json_before
    strip = ("created_at", "updated_at")
    assert [{k: v for k, v in b.items() if k not in strip} for b in specialist_bodies()] == \
        [{k: v for k, v in b.items() if k not in strip} for b in bodies]
    if suffix == ".csv":
        encoding = "gb18030" if extra else "utf-8-sig"
        raw = before["villages"]
        assert raw.startswith(b"\xef\xbb\xbf") != bool(extra)
        rows = list(csv.DictReader(raw.decode(encoding).splitlines()))
        assert rows[0]["needs"] == "rural_tourism:0.35;tea:2*" and list(rows[0])[:2] == ["code", "name"]


@pytest.mark.parametrize("kind", ["villages", "specialists"])
def test_reimporting_an_export_changes_nothing(loaded: Engine, tmp_path: Path, kind: str) -> None:
    exported = _export(kind, tmp_path / f"{kind}.csv")
    model = Village if kind == "villages" else Specialist
    with get_sessionmaker()() as session:
        stamps = session.execute(select(model.code, model.version, model.updated_at).order_by(model.code)).all()
    result = run("catalogue", "import", kind, str(tmp_path / f"{kind}.csv"))
    assert result.exit_code == 0, result.output
    assert "created: 0\nupdated: 0\nunchanged: 3\n" in result.output
    with get_sessionmaker()() as session:
        assert session.execute(select(model.code, model.version, model.updated_at).order_by(model.code)).all() == stamps
    assert _export(kind, tmp_path / f"{kind}-again.csv") == exported


def test_csv_with_packed_lists_imports(db: Engine, tmp_path: Path) -> None:
    _import("counties", _write_json(tmp_path / "c.json", COUNTIES))
    (tmp_path / "t.csv").write_bytes("code,name,lon,lat\n341525100,衡山镇,,\n".encode("gb18030"))
    _import("townships", tmp_path / "t.csv")
    (tmp_path / "v.csv").write_bytes("code,name,kind,poverty_alleviated,needs\n"
                                     "341525100201,甲村,村委会,是,tea:2*；rural_tourism\n".encode("gb18030"))
    _import("villages", tmp_path / "v.csv")
    (tmp_path / "s.csv").write_text("code,name,kind,expertise,members,leader,max_distance_km\n"
                                    "TP00001,张茶,,tea:3;vegetables:2,,,\n"
                                    "TD001,服务团,team,,TP00001,TP00001,50\n", encoding="utf-8")
    _import("specialists", tmp_path / "s.csv")
    village = _export("villages", tmp_path / "v.json")[0]
    assert village["poverty_alleviated"] is True
    assert village["needs"] == [{"industry": "tea", "weight": 2.0, "primary": True},
                                {"industry": "rural_tourism", "weight": 1.0, "primary": False}]
    specialists = {s["code"]: s for s in specialist_bodies()}
    assert specialists["TP00001"]["expertise"] == [{"industry": "tea", "proficiency": 3},
                                                   {"industry": "vegetables", "proficiency": 2}]
    assert specialists["TP00001"]["max_distance_km"] is None and specialists["TP00001"]["kind"] == "individual"
    assert specialists["TD001"]["members"] == ["TP00001"] and specialists["TD001"]["max_distance_km"] == 50


@pytest.mark.parametrize("kind, text, where", [
    ("villages", "code,name,kind,needs\n341525100201,甲村,村委会,tea:2*\n341525100202,乙村,村委会,tea:x\n",
     "line 3, field needs.0.weight:"),
    ("villages", "code,name,kind,needs\n341525100201,甲村,村委会,tea:2*\n341525100202,乙村,村委会,tea:\n",
     "line 3, field needs: cannot read need"),
    ("villages", "code,name,kind,needs\n341525100201,甲村,村委会,tea:2*\n341525199202,乙村,村委会,nosuch:1\n",
     "line 3, field code: township 341525199 does not exist"),
    ("villages", "code,name,kind,needs\n341525100201,甲村,村委会,tea:2*\n341525100202,乙村,村委会,nosuch:1\n",
     "line 3, field needs.0.industry: unknown industry 'nosuch'"),
    ("villages", "code,name,needs\n341525100201,甲村,tea\n", "line 1, field kind: missing column kind"),
    ("specialists", "code,name,expertise\nTP1,甲,tea:3\nTP2,乙,tea:4\n", "line 3, field expertise.0.proficiency:"),
    ("specialists", "code,name,kind,members\nTP1,甲,team,TP9\n", "line 2, field members: member TP9 does not exist"),
    ("specialists", "code,name\nTP1,甲\nTP1,乙\n", "line 3, field code: duplicate 'TP1' in this batch (first at line 2)"),
])
def test_malformed_csv_names_line_and_field_and_writes_nothing(loaded: Engine, tmp_path: Path, kind: str,
                                                              text: str, where: str) -> None:
    before = _count(Village), _count(Specialist)
    _wipe_villages_and_specialists()
    path = tmp_path / f"bad-{kind}.csv"
    path.write_bytes(text.encode("gb18030"))
    result = run("catalogue", "import", kind, str(path))
    assert result.exit_code == 2, result.output
    assert where in result.output and "nothing was written" in result.output
    assert (_count(Village), _count(Specialist)) == (0, 0)
    assert before == (3, 3)


def test_unknown_kind_and_extension(db: Engine, tmp_path: Path) -> None:
    assert run("catalogue", "import", "farms", str(tmp_path / "x.csv")).exit_code == 2
    bad = run("catalogue", "export", "villages", str(tmp_path / "x.xlsx"))
    assert bad.exit_code == 2 and "use .csv or .json" in bad.output
    assert run("catalogue", "export", "villages", str(tmp_path / "x.csv"), "--encoding", "latin-1").exit_code == 2
    assert _count(County) == 0 and _count(Township) == 0


def test_csv_without_some_columns_keeps_the_stored_values(loaded: Engine, tmp_path: Path) -> None:
    # A file of only code, name and kind used to reset needs, coordinates and flags to their defaults.
    (tmp_path / "v.csv").write_bytes("code,name,kind\n341525100201,甲村新名,村委会\n341525100299,新村,村委会\n"
                                     .encode("gb18030"))
    _import("villages", tmp_path / "v.csv")
    villages = {v["code"]: v for v in _export("villages", tmp_path / "v.json")}
    old = villages["341525100201"]
    assert old["name"] == "甲村新名"
    assert (old["lon"], old["poverty_alleviated"], len(old["needs"])) == (116.34, True, 2)
    assert villages["341525100299"]["needs"] == []  # a new entry takes the defaults


def test_csv_columns_excel_left_without_a_header_are_ignored(loaded: Engine, tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("code,name,,\n341525,霍山县,,\n", encoding="utf-8-sig")
    _import("counties", tmp_path / "c.csv")
    (tmp_path / "bad.csv").write_text("code,name,\n341525,霍山县,多余\n", encoding="utf-8-sig")
    result = run("catalogue", "import", "counties", str(tmp_path / "bad.csv"))
    assert result.exit_code == 2
    assert "line 2: a value ('多余') in column 3, which has no header" in result.output


@pytest.mark.parametrize("code", ["341525100201.0", "3.41525E+11"])
def test_a_code_excel_turned_into_a_number_is_named(loaded: Engine, tmp_path: Path, code: str) -> None:
    (tmp_path / "v.csv").write_text(f"code,name,kind\n{code},甲村,村委会\n", encoding="utf-8-sig")
    result = run("catalogue", "import", "villages", str(tmp_path / "v.csv"))
    assert result.exit_code == 2
    assert "line 2, field code" in result.output and "format the column as text" in result.output
    (tmp_path / "s.csv").write_text("code,name\n12345.0,某人\n", encoding="utf-8-sig")
    assert run("catalogue", "import", "specialists", str(tmp_path / "s.csv")).exit_code == 2


def test_a_kind_changed_by_a_partial_csv_decides_what_follows_it(loaded: Engine, tmp_path: Path) -> None:
    # As a PATCH of the kind does: a village that becomes a 社区 is excluded; a team that becomes an individual
    # drops its members. The stored values used to be copied over (a covered 社区; a refused file).
    (tmp_path / "v.csv").write_text("code,name,kind\n341525100201,甲社区,社区\n", encoding="utf-8-sig")
    _import("villages", tmp_path / "v.csv")
    (tmp_path / "s.csv").write_text("code,name,kind\nTD001,茶叶服务团,individual\n", encoding="utf-8-sig")
    _import("specialists", tmp_path / "s.csv")
    village = {v["code"]: v for v in _export("villages", tmp_path / "v.json")}["341525100201"]
    assert village["kind"] == "社区" and village["excluded"] is True
    team = {s["code"]: s for s in _export("specialists", tmp_path / "s.json")}["TD001"]
    assert (team["kind"], team["members"], team["leader"]) == ("individual", [], None)
