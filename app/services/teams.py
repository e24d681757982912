"""Team membership: batch validation of member lists and the set-based replacement of team_members."""

from collections.abc import Sequence

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session, aliased

from app.errors import row_error
from app.schemas.specialists import SpecialistIn
from app.services.bulk import MAX_PARAMS, chunks
from models import Specialist, TeamMember

MEMBERS: Table = TeamMember.__table__  # type: ignore[assignment]


def kinds_by_code(session: Session, *, codes: Sequence[str]) -> dict[str, str]:
    """The stored kind of each existing specialist among `codes`, in chunks."""
    out: dict[str, str] = {}
    for part in chunks(list(dict.fromkeys(codes)), MAX_PARAMS):
        out.update((c, k) for c, k in session.execute(select(Specialist.code, Specialist.kind)
                                                      .where(Specialist.code.in_(part))))
    return out


def teams_of_members(session: Session, *, codes: Sequence[str]) -> dict[str, str]:
    """Map each specialist code among `codes` that belongs to a stored team to that team's code."""
    member, team = aliased(Specialist), aliased(Specialist)
    out: dict[str, str] = {}
    for part in chunks(list(dict.fromkeys(codes)), MAX_PARAMS):
        stmt = (select(member.code, team.code).join(TeamMember, TeamMember.member_id == member.id)
                .join(team, team.id == TeamMember.team_id).where(member.code.in_(part)))
        out.update((m, t) for m, t in session.execute(stmt))
    return out


def team_errors(session: Session, *, rows: Sequence[SpecialistIn]) -> list[dict[str, object]]:
    """Every membership problem of a batch: unknown or non-individual members, and people in two teams."""
    batch = {r.code: r for r in rows}
    member_codes = [m for r in rows for m in r.members]
    stored_kinds = kinds_by_code(session, codes=[m for m in member_codes if m not in batch])
    stored_teams = teams_of_members(session, codes=member_codes + [r.code for r in rows if r.kind != "individual"])
    errors: list[dict[str, object]] = []
    claimed: dict[str, tuple[str, int]] = {}
    for row, r in enumerate(rows):
        if r.kind != "individual" and r.code in stored_teams and stored_teams[r.code] not in batch:
            errors.append(row_error(row, "kind", f"{r.code} is a member of team {stored_teams[r.code]}; "
                                                 "only individuals can be members, so it must stay 'individual'"))
        for m in r.members:
            kind = batch[m].kind if m in batch else stored_kinds.get(m)
            if kind is None:
                errors.append(row_error(row, "members", f"member {m} does not exist"))
                continue
            if kind != "individual":
                errors.append(row_error(row, "members", f"member {m} is a {kind}; only individuals can be members"))
            if m in claimed:
                other, other_row = claimed[m]
                errors.append(row_error(row, "members", f"{m} is already a member of team {other} "
                                                        f"(row {other_row} of this batch); a person joins one team"))
                continue
            claimed[m] = (r.code, row)
            current = stored_teams.get(m)
            if current is not None and current != r.code and current not in batch:
                errors.append(row_error(row, "members", f"{m} is already a member of team {current}; "
                                                        "remove it there first (a person joins one team)"))
    return errors


def replace_members(session: Session, *, rows: Sequence[SpecialistIn], ids: dict[str, int]) -> None:
    """Replace the member lists of every specialist in the batch (non-teams end up with none)."""
    spec_ids = [ids[r.code] for r in rows]
    for part in chunks(spec_ids, MAX_PARAMS):
        session.execute(delete(TeamMember).where(TeamMember.team_id.in_(part))
                        .execution_options(synchronize_session=False))
    payload = [{"team_id": ids[r.code], "member_id": ids[m], "is_leader": m == r.leader}
               for r in rows for m in r.members]
    if payload:
        session.execute(insert(MEMBERS), payload)


def team_of(session: Session, *, specialist_id: int) -> Specialist | None:
    """The team a person belongs to, if any."""
    return session.scalar(select(Specialist).join(TeamMember, TeamMember.team_id == Specialist.id)
                          .where(TeamMember.member_id == specialist_id))
