"""Retention of closed cases: identity destroyed, then content purged to a tombstone."""
