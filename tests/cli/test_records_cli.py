"""`jiedui records import/export`: CSV (UTF-8 or GB18030, English or Chinese headers) and JSON, all or nothing."""

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.cli.clihelp import load_catalogue, records, run

CHINESE = "季度,特派员编号,区划代码,考核等次,服务天数,服务次数,备注\r\n"


@pytest.fixture
def catalogue(db: Engine) -> Engine:
    load_catalogue()
    return db


def test_gb18030_csv_with_chinese_headers(catalogue: Engine, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_bytes((CHINESE + "2026,TP00001,341525100201,优秀,30.5,12,茶园管护，病虫害防治\r\n"
                      "2026,TP00002,341525100203,合格,,,\r\n").encode("gb18030"))
    result = run("records", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "rows: 2" in result.output and "created: 2" in result.output
    assert [(r["specialist"], r["grade"], r["service_days"], r["visits"], r["note"]) for r in records()] == [
        ("TP00001", "优秀", 30.5, 12, "茶园管护，病虫害防治"), ("TP00002", "合格", 0.0, 0, None)]


def test_utf8_bom_english_headers_and_season_option_updates(catalogue: Engine, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text("specialist,village,grade,visits\nTP00001,341525100201,良好,3\n"
                    "TP00005,341525100202,,1\n", encoding="utf-8-sig")
    first = run("records", "import", str(path), "--season", "2026H1")
    assert first.exit_code == 0, first.output
    assert [(r["season"], r["specialist"], r["grade"]) for r in records()] == [
        ("2026H1", "TP00001", "良好"), ("2026H1", "TP00005", None)]  # an inactive specialist is fine
    path.write_text("season,specialist,village,grade,visits\n2025,TP00001,341525100201,优秀,4\n", encoding="utf-8")
    again = run("records", "import", str(path), "--season", "2026H1")  # the option overrides the column
    assert again.exit_code == 0, again.output
    assert "created: 0" in again.output and "updated: 1" in again.output
    assert [(r["season"], r["grade"], r["visits"], r["version"]) for r in records()][0] == ("2026H1", "优秀", 4, 2)


def test_json_import_and_export_round_trip(catalogue: Engine, tmp_path: Path) -> None:
    rows = [{"season": "2026", "specialist": "TP00001", "village": "341525100201", "grade": "优秀",
             "service_days": 30.5, "visits": 12, "note": "说明,含逗号\n和换行"},
            {"season": "2026", "specialist": "TP00003", "village": "341525101201"}]
    src = tmp_path / "records.json"
    src.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    assert run("records", "import", str(src)).exit_code == 0
    before = records()
    for name, extra in (("out.csv", []), ("out.json", []), ("out-gbk.csv", ["--encoding", "gb18030"])):
        exported = run("records", "export", str(tmp_path / name), *extra)
        assert exported.exit_code == 0, exported.output
        assert run("records", "import", str(tmp_path / name)).exit_code == 0
        assert [{**r, "version": 0} for r in records()] == [{**r, "version": 0} for r in before]
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("body, line, field", [
    ("2026,TP00001,341525100201,优秀,1,1,\r\n2026,TP00002,341525100203,很好,1,1,\r\n", "line 3", "grade (考核等次)"),
    ("2026,TP00001,341525100201,优秀,1,1,\r\n2026,TP09999,341525100203,良好,1,1,\r\n", "line 3",
     "specialist (特派员编号)"),
    ("2026,TP00001,341525100299,优秀,1,1,\r\n", "line 2", "village (区划代码)"),
    ("2026,TP00001,341525100201,优秀,400,1,\r\n", "line 2", "service_days (服务天数)"),
    ("2026,TP00001,341525100201,优秀,1,1,\r\n2026,TP00001,341525100201,良好,1,1,\r\n", "line 3",
     "season/specialist/village"),
    ('2026,TP00001,341525100201,优秀,1,1,"两行\r\n的备注"\r\n2026,TP00002,341525100203,好,1,1,\r\n', "line 4",
     "grade (考核等次)"),
])
def test_malformed_rows_name_line_and_field_and_write_nothing(catalogue: Engine, tmp_path: Path, body: str,
                                                             line: str, field: str) -> None:
    path = tmp_path / "records.csv"
    path.write_bytes((CHINESE + body).encode("gb18030"))
    result = run("records", "import", str(path))
    assert result.exit_code == 2, result.output
    assert f"{line}, field {field}:" in result.output and "nothing was written" in result.output
    assert records() == []


def test_missing_column_unknown_column_and_bad_bytes(catalogue: Engine, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text("季度,区划代码,考核等次\n2026,341525100201,优秀\n", encoding="utf-8")
    result = run("records", "import", str(path))
    assert result.exit_code == 2 and "line 1, field specialist (特派员编号): missing column" in result.output
    path.write_text("season,specialist,village,score\n2026,TP00001,341525100201,9\n", encoding="utf-8")
    result = run("records", "import", str(path))
    assert result.exit_code == 2 and "unknown column 'score'" in result.output
    path.write_bytes(b"season,specialist,village\n2026,TP00001,341525100201\n" + b"\xff\xfe\xff\n")
    result = run("records", "import", str(path))
    assert result.exit_code == 2 and "neither UTF-8 nor GB18030" in result.output
    assert records() == []


def test_bad_json_names_the_item(catalogue: Engine, tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text(json.dumps([{"season": "2026", "specialist": "TP00001", "village": "341525100201"},
                                {"season": "2026", "specialist": "TP00002", "village": "341525100203",
                                 "visits": -1}]), encoding="utf-8")
    result = run("records", "import", str(path))
    assert result.exit_code == 2 and "item 2 (index 1), field visits:" in result.output
    path.write_text("{not json", encoding="utf-8")
    result = run("records", "import", str(path))
    assert result.exit_code == 2 and "not valid JSON" in result.output
    assert records() == []


def test_other_errors_exit_1(tmp_path: Path, db: Engine) -> None:
    path = tmp_path / "records.json"
    path.write_text('[{"season": "2026", "specialist": "TP00001", "village": "341525100201"}]', encoding="utf-8")
    result = run("records", "import", str(path), env={"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert result.exit_code == 1, result.output
    assert "jiedui db upgrade" in result.output
    assert run("records", "import", str(tmp_path / "x.txt")).exit_code == 2


def test_a_graded_name_list_imports_as_records(env: dict[str, str], tmp_path: Path) -> None:
    # A planner grades the exported name list (adds 年度 and 考核等次) and imports it; its display columns
    # (县区, 乡镇, 特派员 ...) used to be refused as unknown.
    import csv
    import io

    from app.db import session_scope
    from app.services.export import export_run
    from tests.cli.clihelp import invoke, newest_run

    code, out = invoke(env, "season", "rerun", "--season", "2026", "--county", "341525")
    assert code in (0, 3), out
    with session_scope() as session:
        content, _, _ = export_run(session, run=newest_run("2026"), fmt="csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    graded = [[*rows[0], "年度", "考核等次"]] + [[*r, "2026", "良好"] for r in rows[1:]]
    path = tmp_path / "graded.csv"
    with path.open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows(graded)
    result = run("records", "import", str(path))
    assert result.exit_code == 0, result.output
    assert f"created: {len(rows) - 1}" in result.output
