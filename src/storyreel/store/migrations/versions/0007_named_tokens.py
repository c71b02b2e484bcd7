"""named, expiring, revocable API tokens: a name and the time a credential was last used

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("name", sa.String(64), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_credentials_user", "credentials", ["user_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_credentials_user", table_name="credentials")
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("name")
