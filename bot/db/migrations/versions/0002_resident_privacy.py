"""resident privacy: anonymous tickets, erased residents' past enrolments, erasure confirmations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 16:40:00

- ``anonymous_tickets``: what remains of a ticket once its resident is erased (reports only).
- ``enrolments.resident_id`` nullable: an erased resident's past seat still counts in attendance.
- ``outbox.resident_id`` nullable: the SMS confirming an erasure goes out after the resident is gone.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('anonymous_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('theme', sa.String(length=60), nullable=True),
    sa.Column('subtheme', sa.String(length=60), nullable=True),
    sa.Column('service', sa.String(length=40), nullable=True),
    sa.Column('intent', sa.String(length=40), nullable=True),
    sa.Column('guide_id', sa.String(length=80), nullable=True),
    sa.Column('step_id', sa.String(length=80), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('reopened_count', sa.Integer(), nullable=False),
    sa.Column('minutes_to_claim', sa.Integer(), nullable=True),
    sa.Column('minutes_to_close', sa.Integer(), nullable=True),
    sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['structure_id'], ['structures.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('anonymous_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_anonymous_tickets_structure_id'), ['structure_id'], unique=False)
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.alter_column('resident_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('resident_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Rows without a resident cannot go back to a NOT NULL column: they are dropped first.
    op.execute("DELETE FROM outbox WHERE resident_id IS NULL")
    op.execute("DELETE FROM enrolments WHERE resident_id IS NULL")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('resident_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.alter_column('resident_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('anonymous_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_anonymous_tickets_structure_id'))
    op.drop_table('anonymous_tickets')
