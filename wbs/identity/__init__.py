"""Identity release through the unit's custodian: requests, decisions, released wraps."""
