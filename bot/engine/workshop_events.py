"""Events the workshop side of the engine decides; applied by bot/workshops/apply.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EnrolRequested:
    """The resident picked a workshop: a seat if free, else the waiting list (decided when applied)."""

    workshop_id: int


@dataclass(frozen=True)
class CancelEnrolment:
    """Free the resident's seat (or waiting place); the first waiting is promoted and told."""

    enrolment_id: int


@dataclass(frozen=True)
class ReminderAnswered:
    """The resident answered a reminder or follow-up: yes | no | 1 | 2 | 3."""

    reminder_id: int
    answer: str


@dataclass(frozen=True)
class FollowupsSwitched:
    enabled: bool
