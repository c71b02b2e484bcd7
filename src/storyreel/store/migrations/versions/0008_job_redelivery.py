"""job redelivery: the attempts a job has had, the lease generation that fences a lost worker, and when a job whose
worker died may be delivered again

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("generation", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("redeliver_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_jobs_redeliver", "jobs", ["state", "redeliver_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_redeliver", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("redeliver_at")
        batch.drop_column("generation")
        batch.drop_column("attempts")
