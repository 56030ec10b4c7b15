"""The index retention's rounds need on reports (no table of its own: a purged report is
its own tombstone, see wbs.retention.repository)."""

from __future__ import annotations

from sqlalchemy import Index

from wbs.reporting.models import Report

_reports = Report.__table__.c
CLOSED_BY_CHANNEL = Index(
    "ix_reports_retention",
    _reports.channel_id,
    _reports.status,
    _reports.status_changed_at,
)
