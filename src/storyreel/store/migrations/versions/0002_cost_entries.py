"""cost ledger

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "cost_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("node", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(128), nullable=False),
        sa.Column("estimate_usd", sa.Float, nullable=False),
        sa.Column("actual_usd", sa.Float, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cost_entries_project", "cost_entries", ["project_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_cost_entries_project", "cost_entries")
    op.drop_table("cost_entries")
