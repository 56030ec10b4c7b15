"""Anonymous reports: submission, case numbers, receipts, the reporter's mailbox."""
