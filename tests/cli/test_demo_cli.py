"""`jiedui demo load --force` over a catalogue that contradicts the demo."""

from typer.testing import CliRunner

from app.cli import main
from app.db import session_scope
from app.schemas.specialists import SpecialistIn
from app.services.specialists import bulk_upsert_specialists
from tests.cli.clihelp import specialist_bodies


def test_force_over_a_contradicting_team_is_one_error_line(env: dict[str, str]) -> None:
    # A demo team's member moved to a new team: the demo cannot take it back. It used to end in a traceback.
    team = next(b for b in specialist_bodies() if b["kind"] == "team" and len(b["members"]) > 1)
    moved = team["members"][-1]
    fields = SpecialistIn.model_fields
    kept = {k: v for k, v in team.items() if k in fields}
    leader = kept["leader"] if kept["leader"] != moved else None
    with session_scope() as session:
        bulk_upsert_specialists(session, rows=[
            SpecialistIn.model_validate({**kept, "members": team["members"][:-1], "leader": leader}),
            SpecialistIn.model_validate({"code": "TPX0009", "name": "新团队", "kind": "team", "members": [moved]})])
    result = CliRunner().invoke(main, ["demo", "load", "--force"], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: demo not loaded: ") and "Traceback" not in result.output
    assert result.stdout == ""
