"""cost entries: the request each paid call sent, and a note (uncertain / reconciled)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column("cost_entries", sa.Column("request_key", sa.String(80), nullable=True))
    op.add_column("cost_entries", sa.Column("note", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cost_entries") as batch:
        batch.drop_column("note")
        batch.drop_column("request_key")
