"""Reminders and follow-ups: rows with a due time, sent once through the outbox inside a sending window."""
