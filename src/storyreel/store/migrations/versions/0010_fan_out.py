"""fan-out: the registered workers, the nodes of a make offered to all of them, and the vendor call starts every worker
counts against a requests-per-minute cap (issue 29 item 4)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("concurrency", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "node_tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(160), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("forcing", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("base", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("state", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("worker", sa.String(128), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_node_tasks_project", "node_tasks", ["project_id", "state"])
    op.create_table(
        "vendor_starts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("vendor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_vendor_starts", "vendor_starts", ["vendor", "at"])


def downgrade() -> None:
    op.drop_index("ix_vendor_starts", table_name="vendor_starts")
    op.drop_table("vendor_starts")
    op.drop_index("ix_node_tasks_project", table_name="node_tasks")
    op.drop_table("node_tasks")
    op.drop_table("workers")
