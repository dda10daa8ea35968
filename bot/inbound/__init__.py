"""Where every resident message enters the core, whatever its channel.

- ``acks.py``: webhooks hand their message to one writer thread and answer the provider once it is
  stored (group commit), so providers get a fast answer and nothing acknowledged is lost.
- ``pipeline.py``: ``store`` (idempotent on the provider id, secrets redacted), then ``decide``: the
  conversation engine's events applied in ONE transaction (replies into the outbox, tickets, opt-out).
  ``receive`` does both at once (simulator, Telegram polling, tests).
- ``decisions.py``: the worker that decides stored messages right after their webhook answered, in
  arrival order per resident, and picks up what a crash left undecided.
- ``flood.py``: a number sending too much is throttled and flagged to mediators.
"""
