"""review: a reviewer's comments saved before deciding (review_draft)

Revision ID: 5b2e9f0c7d14
Revises: c41d7e9a2b6f
Create Date: 2026-11-27 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "5b2e9f0c7d14"
down_revision: str | None = "c41d7e9a2b6f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_draft",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("general", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_review_draft_author_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_review_draft_submission_id_submission"),
        ),
        sa.PrimaryKeyConstraint("submission_id", "author_id", name=op.f("pk_review_draft")),
    )


def downgrade() -> None:
    op.drop_table("review_draft")
