"""The demo generator: deterministic, realistic counts, valid references."""

import importlib.util
from collections import Counter

import pytest

from app.demo import regions
from app.demo.generate import INDUSTRIES, demand, generate
from app.schemas.specialists import SpecialistIn
from app.schemas.villages import VillageIn
from app.settings import PROJECT_ROOT


def _seeded_industries() -> set[str]:
    path = PROJECT_ROOT / "alembic" / "versions" / "2026_11_22_0001_catalogue.py"
    spec = importlib.util.spec_from_file_location("catalogue_migration", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {code for code, _zh, _en in module.INDUSTRIES}


@pytest.fixture(scope="module")
def cat():  # type: ignore[no-untyped-def]
    return generate()


def test_same_seed_same_rows_other_seed_other_rows(cat) -> None:  # type: ignore[no-untyped-def]
    again = generate(2026)
    assert again.villages == cat.villages and again.specialists == cat.specialists
    other = generate(7)
    assert [v["code"] for v in other.villages] == [v["code"] for v in cat.villages]
    assert other.villages != cat.villages and other.specialists != cat.specialists


def test_regions_read_from_shipped_csvs() -> None:
    assert len(regions.counties()) == 7
    townships = regions.townships()
    assert len(townships) == 146
    assert sum(t.lon is None for t in townships) == 12
    assert all(c.datum == "GCJ-02" for c in regions.counties())


def test_village_counts_and_shape(cat) -> None:  # type: ignore[no-untyped-def]
    villages = cat.villages
    assert len(villages) == 1970
    kinds = Counter(v["kind"] for v in villages)
    assert kinds["村委会"] == 1721
    assert set(kinds) <= {"村委会", "居委会", "社区", "虚拟"}
    for v in villages:
        VillageIn.model_validate(v)
        assert v["code"][:9] == v["township_code"]
        assert 1 <= len(v["needs"]) <= 3
        assert sum(n["primary"] for n in v["needs"]) == 1 and v["needs"][0]["primary"]
        assert len({n["industry"] for n in v["needs"]}) == len(v["needs"])
        assert v["lon"] is not None and v["datum"] == "GCJ-02"
        assert 114.5 < v["lon"] < 117.5 and 30.8 < v["lat"] < 32.8  # within reach of 六安


def test_village_flags_follow_terrain(cat) -> None:  # type: ignore[no-untyped-def]
    rural = [v for v in cat.villages if v["kind"] == "村委会"]
    mountain = [v for v in rural if v["code"][:6] in ("341524", "341525")]
    plain = [v for v in rural if v["code"][:6] in ("341522", "341504")]
    share = lambda rows, f: sum(v[f] for v in rows) / len(rows)
    assert 0.12 < share(mountain, "poverty_alleviated") < 0.25
    assert share(plain, "poverty_alleviated") < share(mountain, "poverty_alleviated")
    three = Counter(v["code"][:6] for v in rural if v["three_areas"])
    assert (three["341524"] + three["341525"] + three["341523"]) / sum(three.values()) > 0.85
    assert 0 < sum(v["key_village"] for v in rural) < 0.05 * len(rural)
    assert 0 < sum(v["designated_support"] for v in rural) < 0.03 * len(rural)
    urban = [v for v in cat.villages if v["kind"] != "村委会"]
    assert all(v["needs"] for v in urban) and not any(v["poverty_alleviated"] for v in urban)


def test_industry_mix_differs_by_county(cat) -> None:  # type: ignore[no-untyped-def]
    d = demand(cat.villages)
    top = {c: {k for k, _ in d[c].most_common(4)} for c in d}
    assert {"tea", "medicinal_herbs"} <= top["341525"]  # 霍山: 黄芽, 石斛
    assert "tea" in top["341524"]  # 金寨: 六安瓜片
    assert {"grain", "aquaculture"} <= top["341522"]  # 霍邱: plains and lakes


def test_every_industry_code_is_seeded_by_the_migration(cat) -> None:  # type: ignore[no-untyped-def]
    seeded = _seeded_industries()
    assert set(INDUSTRIES) == seeded
    used = {n["industry"] for v in cat.villages for n in v["needs"]}
    used |= {e["industry"] for s in cat.specialists for e in s["expertise"]}
    assert used <= seeded


def test_specialist_roster(cat) -> None:  # type: ignore[no-untyped-def]
    specialists = cat.specialists
    assert 1400 <= len(specialists) <= 1600
    codes = [s["code"] for s in specialists]
    assert len(set(codes)) == len(codes)
    assert all(c.startswith("TP") and len(c) == 7 and c[2:].isdigit() for c in codes)
    kinds = Counter(s["kind"] for s in specialists)
    assert 35 <= kinds["team"] <= 45 and 25 <= kinds["legal_person"] <= 35
    for s in specialists:
        SpecialistIn.model_validate(s)
        assert 1 <= len(s["expertise"]) <= 3
        assert len(s["home_region_code"]) in (6, 9)
        assert 60 <= s["service_days"] <= 150 and 50 <= s["max_distance_km"] <= 150
    assert 0.93 < sum(s["active"] for s in specialists) / len(specialists) < 0.995
    assert 0.10 < sum(s["three_areas_programme"] for s in specialists) / len(specialists) < 0.20
    assert Counter(s["capacity"] for s in specialists).most_common(1)[0][0] == 2
    assert 0.01 < sum(s["grade"] == "不合格" for s in specialists) / len(specialists) < 0.05
    assert any(s["org_name"] == "安徽农业大学" for s in specialists)


def test_teams_are_valid(cat) -> None:  # type: ignore[no-untyped-def]
    by_code = {s["code"]: s for s in cat.specialists}
    seen: set[str] = set()
    for s in cat.specialists:
        if s["kind"] != "team":
            assert s["members"] == [] and s["leader"] is None
            continue
        assert 2 <= len(s["members"]) <= 5
        assert s["leader"] in s["members"]
        for m in s["members"]:
            assert by_code[m]["kind"] == "individual"
            assert m not in seen, f"{m} is in two teams"
            seen.add(m)


def test_supply_has_shortages(cat) -> None:  # type: ignore[no-untyped-def]
    """Overall supply covers demand, but medicinal herbs and rural tourism are short of experts."""
    primary_demand = Counter(v["needs"][0]["industry"] for v in cat.villages if v["kind"] == "村委会")
    expert_capacity: Counter[str] = Counter()
    for s in cat.specialists:
        if s["active"] and s["kind"] != "team":
            expert_capacity.update({e["industry"]: s["capacity"] for e in s["expertise"] if e["proficiency"] >= 2})
    ratio = {k: expert_capacity[k] / primary_demand[k] for k in primary_demand if primary_demand[k] >= 20}
    assert ratio["rural_tourism"] < 1.0 and ratio["medicinal_herbs"] < 1.5
    assert ratio["grain"] > 2 and ratio["vegetables"] > 2
