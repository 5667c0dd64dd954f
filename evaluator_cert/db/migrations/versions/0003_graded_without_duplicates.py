"""trainee_rolling.graded counts hidden duplicates once

Revision ID: 0003_graded_without_duplicates
Revises: 0002_trainee_rolling
Create Date: 2026-11-30 20:10:00.000000

The cohort view counted the two re-served self-consistency items twice, while the trainee's
own dashboard did not. Recount every stored row the way ``attempts.counted_practice`` does.
"""

from __future__ import annotations

from alembic import op

revision = "0003_graded_without_duplicates"
down_revision = "0002_trainee_rolling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE trainee_rolling SET graded = (
            SELECT count(*) FROM annotations
            JOIN attempts ON attempts.id = annotations.attempt_id
            WHERE annotations.user_id = trainee_rolling.user_id
              AND attempts.kind = 'practice'
              AND annotations.item_id NOT LIKE '%#dup'
        )
        """
    )


def downgrade() -> None:
    op.execute(
        """
        UPDATE trainee_rolling SET graded = (
            SELECT count(*) FROM annotations
            JOIN attempts ON attempts.id = annotations.attempt_id
            WHERE annotations.user_id = trainee_rolling.user_id
              AND attempts.kind = 'practice'
        )
        """
    )
