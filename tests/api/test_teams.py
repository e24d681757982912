"""Teams of specialists: membership rules, replacement and the team-of lookup."""

from typing import Any

from fastapi.testclient import TestClient

URL = "/api/v1/specialists"


def person(code: str, **fields: Any) -> dict[str, Any]:
    return {"code": code, "name": f"专家{code}", **fields}


def team(code: str, members: list[str], leader: str | None = None, **fields: Any) -> dict[str, Any]:
    return person(code, kind="team", members=members, leader=leader, **fields)


PEOPLE = [person(f"P{i}") for i in range(1, 6)]


def load(client: TestClient, rows: list[dict[str, Any]]) -> None:
    r = client.post(f"{URL}/bulk", json=rows)
    assert r.status_code == 200, r.text


def rejected(client: TestClient, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch that must fail as a whole; returns its first error."""
    before = client.get(URL, params={"limit": 1000}).json()["items"]
    r = client.post(f"{URL}/bulk", json=rows)
    assert r.status_code == 422, r.text
    assert client.get(URL, params={"limit": 1000}).json()["items"] == before
    return dict(r.json()["error"]["errors"][0])


def test_team_with_members_and_leader(client: TestClient) -> None:
    load(client, [team("T1", ["P1", "P2"], leader="P2"), *PEOPLE])  # members may come later in the batch
    got = client.get(f"{URL}/T1").json()
    assert got["members"] == ["P1", "P2"] and got["leader"] == "P2"
    of = client.get(f"{URL}/P1/team")
    assert of.status_code == 200 and of.json()["code"] == "T1"
    assert client.get(f"{URL}/P3/team").status_code == 404


def test_members_on_non_team_rejected(client: TestClient) -> None:
    err = rejected(client, [*PEOPLE, person("X", members=["P1"])])
    assert (err["row"], err["field"]) == (5, "members")


def test_member_must_exist(client: TestClient) -> None:
    err = rejected(client, [*PEOPLE, team("T1", ["P1", "GHOST"])])
    assert (err["row"], err["field"]) == (5, "members") and "GHOST" in err["message"]


def test_member_must_be_individual(client: TestClient) -> None:
    load(client, [*PEOPLE, team("T1", ["P1"])])
    err = rejected(client, [team("T2", ["T1"])])
    assert (err["row"], err["field"]) == (0, "members") and "T1" in err["message"]


def test_team_cannot_list_itself(client: TestClient) -> None:
    err = rejected(client, [*PEOPLE, team("T1", ["P1", "T1"])])
    assert (err["row"], err["field"]) == (5, "members")


def test_leader_must_be_member(client: TestClient) -> None:
    err = rejected(client, [*PEOPLE, team("T1", ["P1"], leader="P2")])
    assert (err["row"], err["field"]) == (5, "leader")


def test_person_in_two_teams_in_one_batch(client: TestClient) -> None:
    err = rejected(client, [*PEOPLE, team("T1", ["P1", "P2"]), team("T2", ["P3", "P2"])])
    assert (err["row"], err["field"]) == (6, "members")
    assert "P2" in err["message"] and "T1" in err["message"]


def test_person_in_existing_team_cannot_join_another(client: TestClient) -> None:
    load(client, [*PEOPLE, team("T1", ["P1", "P2"])])
    err = rejected(client, [team("T2", ["P2"])])
    assert (err["row"], err["field"]) == (0, "members") and "T1" in err["message"]
    r = client.post(URL, json=team("T2", ["P3", "P2"]))
    assert r.status_code == 422
    assert r.json()["error"]["errors"][0] == {"row": None, "field": "members", "message": err["message"]}
    assert client.get(f"{URL}/T2").status_code == 404


def test_member_of_a_team_cannot_become_a_team(client: TestClient) -> None:
    load(client, [*PEOPLE, team("T1", ["P1"])])
    r = client.patch(f"{URL}/P1", json={"kind": "team", "members": ["P2"]})
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "kind"


def test_replacing_members_releases_old_ones(client: TestClient) -> None:
    load(client, [*PEOPLE, team("T1", ["P1", "P2"], leader="P1")])
    r = client.patch(f"{URL}/T1", json={"members": ["P2", "P3"], "leader": "P3"}, headers={"If-Match": '"T1.1"'})
    assert r.status_code == 200, r.text
    assert r.json()["members"] == ["P2", "P3"] and r.json()["leader"] == "P3" and r.json()["version"] == 2
    assert client.get(f"{URL}/P1/team").status_code == 404
    load(client, [team("T2", ["P1"])])  # P1 is free again
    assert client.get(f"{URL}/P1/team").json()["code"] == "T2"


def test_moving_a_person_between_teams_in_one_batch(client: TestClient) -> None:
    load(client, [*PEOPLE, team("T1", ["P1", "P2"]), team("T2", ["P3"])])
    load(client, [team("T1", ["P1"]), team("T2", ["P3", "P2"])])
    assert client.get(f"{URL}/P2/team").json()["code"] == "T2"
    assert client.get(f"{URL}/T1").json()["members"] == ["P1"]


def test_leaving_kind_team_drops_members(client: TestClient) -> None:
    load(client, [*PEOPLE, team("T1", ["P1", "P2"], leader="P1")])
    r = client.patch(f"{URL}/T1", json={"kind": "legal_person"})
    assert r.status_code == 200, r.text
    assert r.json()["members"] == [] and r.json()["leader"] is None
    assert client.get(f"{URL}/P1/team").status_code == 404


def test_deleting_team_releases_members_and_deleting_member_leaves_team(client: TestClient) -> None:
    load(client, [*PEOPLE, team("T1", ["P1", "P2"]), team("T2", ["P3", "P4"])])
    assert client.delete(f"{URL}/T1").status_code == 204
    assert client.get(f"{URL}/P1/team").status_code == 404
    assert client.get(f"{URL}/P1").status_code == 200
    assert client.delete(f"{URL}/P3").status_code == 204
    assert client.get(f"{URL}/T2").json()["members"] == ["P4"]


def test_deleting_a_member_gives_the_team_a_new_etag(client: TestClient) -> None:
    load(client, [*PEOPLE, team("T1", ["P1", "P2"], leader="P1")])
    before = client.get(f"{URL}/T1")
    assert client.delete(f"{URL}/P1").status_code == 204
    after = client.get(f"{URL}/T1")
    assert after.json()["members"] == ["P2"] and after.json()["leader"] is None
    assert after.headers["ETag"] != before.headers["ETag"]
    stale = client.patch(f"{URL}/T1", json={"name": "新团队"}, headers={"If-Match": before.headers["ETag"]})
    assert stale.status_code == 412
