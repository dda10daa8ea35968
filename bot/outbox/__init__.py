"""Everything sent goes through here: queued in the outbox table, then dispatched to a channel sender."""
