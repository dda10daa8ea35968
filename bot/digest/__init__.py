"""The mediators' daily digest: what waits, what happened yesterday, the workshops of today and tomorrow."""
