"""inbound messages stored first, decided after

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 16:50:00

- ``messages.status`` of an inbound message now says whether it was decided: ``received``
  (stored, waiting for the engine), ``decided``, ``throttled`` (flood), ``failed``. Every inbound
  message stored before this revision was decided with its storing: it becomes ``decided``, so
  the decision worker does not answer history again.
- ``ix_messages_undecided``: a partial index holding only the messages waiting for a decision,
  so the worker finds them at once however long the history.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_UNDECIDED = sa.text("direction = 'in' AND status = 'received'")


def upgrade() -> None:
    op.execute("UPDATE messages SET status = 'decided' WHERE direction = 'in' AND status = 'received'")
    op.create_index('ix_messages_undecided', 'messages', ['resident_id', 'id'], unique=False,
                    sqlite_where=_UNDECIDED, postgresql_where=_UNDECIDED)


def downgrade() -> None:
    op.drop_index('ix_messages_undecided', table_name='messages')
    op.execute("UPDATE messages SET status = 'received' WHERE direction = 'in' "
               "AND status IN ('decided', 'throttled', 'failed')")
