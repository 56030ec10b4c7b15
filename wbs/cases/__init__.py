"""The officer side of reports: inbox, case reading, replies, notes, recipients, status."""
