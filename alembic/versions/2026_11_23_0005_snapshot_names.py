"""snapshot names: display names frozen with a run's input, for its name list and change report

Revision ID: 20261123_0005
Revises: 20261123_0004
Create Date: 2026-11-23 03:30:00
"""

import sqlalchemy as sa

from alembic import op

revision = "20261123_0005"
down_revision = "20261123_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_snapshots") as batch:
        batch.add_column(sa.Column("names", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_snapshots") as batch:
        batch.drop_column("names")
