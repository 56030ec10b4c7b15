"""Indexes the indicator queries need on tables of other domains (no table of its own).

Every indicator query selects a subtree's reports received in a period and groups them by
unit and channel: one index on (unit_id, submitted_at) carrying the channel, the entry path
and the id answers that without reading the table (PostgreSQL index-only scans).
"""

from __future__ import annotations

from sqlalchemy import Index

from wbs.reporting.models import Report

_reports = Report.__table__.c
REPORTS_BY_UNIT_AND_DAY = Index(
    "ix_reports_unit_submitted",
    _reports.unit_id,
    _reports.submitted_at,
    _reports.case_type,
    _reports.server_sealed,
    _reports.id,
)
