"""Indexes the indicator queries need on tables of other domains (no table of its own).

Every indicator query selects a subtree's reports received in a period and groups them by
unit and channel: one index on (unit_id, submitted_at) carrying the channel, the entry path
and the id answers that without reading the table (PostgreSQL index-only scans).
"""

from __future__ import annotations

from sqlalchemy import Index

from wbs.reporting.models import Report

REPORTS_BY_UNIT_AND_DAY = Index(
    "ix_reports_unit_submitted",
    Report.unit_id,
    Report.submitted_at,
    Report.case_type,
    Report.server_sealed,
    Report.id,
)
