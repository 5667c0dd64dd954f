"""trainee_rolling holds the drift rule's own figure

Revision ID: 0004_rolling_agreement
Revises: 0003_graded_without_duplicates
Create Date: 2026-11-30 23:00:00.000000

The cohort view showed pooled kappa over label decisions, while the drift rule and the
trainee's dashboard use the combined agreement (kappa, rubric QWK and item scores): an
instructor could see a trainee "at risk" whom the rule would never place in remediation, and
the other way round. The stored rows are dropped: they are rebuilt from stored grades by the
cohort view's fallback, by ``init-db`` (``cohort.backfill_rolling``) and at each next answer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_rolling_agreement"
down_revision = "0003_graded_without_duplicates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trainee_rolling", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rolling_agreement", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("previous_agreement", sa.Float(), nullable=True))
    op.execute("DELETE FROM trainee_rolling")


def downgrade() -> None:
    with op.batch_alter_table("trainee_rolling", schema=None) as batch_op:
        batch_op.drop_column("previous_agreement")
        batch_op.drop_column("rolling_agreement")
