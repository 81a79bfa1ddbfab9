"""review: the assessment's status on its latest submission digest (one-table inbox and counts)

Revision ID: c41d7e9a2b6f
Revises: a7d3c2b19e07
Create Date: 2026-11-27 01:12:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c41d7e9a2b6f"
down_revision: str | None = "a7d3c2b19e07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission_digest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="submitted")
        )
        batch_op.drop_index("ix_submission_digest_latest_org")
        batch_op.create_index(
            "ix_submission_digest_latest_org_status",
            ["latest", "organisation_id", "status"],
            unique=False,
        )
    op.execute(
        "UPDATE submission_digest SET status = (SELECT a.status FROM assessment a"
        " WHERE a.id = submission_digest.assessment_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("submission_digest", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_digest_latest_org_status")
        batch_op.create_index(
            "ix_submission_digest_latest_org", ["latest", "organisation_id"], unique=False
        )
        batch_op.drop_column("status")
