"""Periodic work in the server process: dispatch the outbox, recover interrupted sends."""
