"""season adoptions: the run a bureau approved as a season's pairings

Revision ID: 20261123_0004
Revises: 20261122_0003
Create Date: 2026-11-23 03:00:00
"""

import sqlalchemy as sa

from alembic import op

revision = "20261123_0004"
down_revision = "20261122_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "season_adoptions",
        sa.Column("season", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_season_adoptions_run_id_runs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("season", name=op.f("pk_season_adoptions")),
    )
    op.create_index(op.f("ix_season_adoptions_run_id"), "season_adoptions", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_season_adoptions_run_id"), table_name="season_adoptions")
    op.drop_table("season_adoptions")
