"""Test inputs: indicator reports in the shape `wbs.indicators.service.compute` returns
(the contract the exports code against), and definitions in the shape of
`wbs.indicators.definitions.DEFINITIONS`. Written by hand for the tests; not used by wbs."""

from __future__ import annotations

import copy
from typing import Any

from wbs.core.text import Text

DEFINITIONS: dict[str, Text] = {
    "received": Text("Laporan yang diterima dalam periode", "Reports received in the period"),
    "by_entry": Text("Laporan diterima per jalur masuk", "Reports received per entry path"),
    "verified": Text("Laporan yang selesai diverifikasi", "Reports whose verification ended"),
    "followed_up": Text("Laporan yang ditindaklanjuti", "Reports followed up"),
    "completed": Text("Laporan yang selesai ditangani", "Reports completed"),
    "completed_on_time": Text("Selesai dalam tenggat", "Completed within the deadline"),
    "completed_on_time_pct": Text(
        "Persentase selesai dalam tenggat", "Share completed within the deadline (%)"
    ),
    "overdue": Text("Laporan lewat tenggat saat ini", "Reports overdue now"),
    "median_days_to_first_response": Text(
        "Median hari kerja sampai tanggapan pertama", "Median working days to first response"
    ),
    "p90_days_to_completion": Text(
        "Persentil 90 hari kerja sampai selesai", "90th percentile working days to completion"
    ),
    "forwarded": Text("Laporan yang dilimpahkan", "Reports forwarded"),
    "forwarded.kpk": Text("Dilimpahkan ke KPK", "Forwarded to the KPK"),
    "feedback_3_months_pct": Text(
        "Pelapor WBS diberi umpan balik dalam 3 bulan (%)",
        "WBS reporters given feedback within 3 months (%)",
    ),
    "by_value_band": Text("Laporan gratifikasi per rentang nilai", "Gratification per value band"),
    "kpk_decision": Text("Keputusan KPK", "KPK decisions"),
    "refusals": Text("Penolakan gratifikasi", "Gratifications refused"),
    "declarations": Text("Pernyataan benturan kepentingan", "Conflict-of-interest declarations"),
    "by_control": Text("Keputusan per bentuk pengendalian", "Decisions by form of control"),
    "mailbox_questions": Text("Pertanyaan di kotak surat", "Mailbox questions asked"),
    "mailbox_answered": Text("Pertanyaan yang dijawab", "Mailbox questions answered"),
}


def _handling(received: Any, completed: Any, on_time: Any, mark: Any) -> dict[str, Any]:
    return {
        "received": received,
        "by_entry": {"web": received, "form": mark, "paper": 0},
        "verified": completed,
        "followed_up": completed,
        "completed": completed,
        "completed_on_time": on_time,
        "completed_on_time_pct": 87.5,
        "overdue": mark,
        "median_days_to_first_response": 2.5,
        "p90_days_to_completion": None,
        "forwarded": {"kpk": 7, "apip": mark, "aph": 0, "other_unit": None},
        "mailbox_questions": 12,
        "mailbox_answered": 11,
    }


def report(unit: str = "DEMO", period: str = "2026", *, public: bool = True) -> dict[str, Any]:
    """A year's figures of a unit with two children, suppressed cells and nested values."""
    mark = "<5" if public else 3
    channels = {
        "pengaduan": _handling(41, 33, 29, mark),
        "wbs": _handling(9, 6, 5, mark) | {"feedback_3_months_pct": 100.0},
        "gratifikasi": {
            "received": 23,
            "by_value_band": {"lt_1jt": mark, "1jt_10jt": 11, "gte_10jt": 8},
            "kpk_decision": {"milik_negara": 6, "milik_penerima": mark, "pending": 13},
            "refusals": 14,
            "completed": 19,
            "completed_on_time": 19,
            "overdue": 0,
        },
        "benturan_kepentingan": {
            "declarations": 17,
            "by_control": {"recusal": 9, "transfer": mark, "none_needed": 6},
            "completed": 15,
            "completed_on_time": 12,
            "overdue": mark,
        },
    }
    body: dict[str, Any] = {
        "unit": unit,
        "unit_name": "Kantor Pelayanan Uji Coba — Klaten",
        "period": period,
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "suppressed_below": 5 if public else None,
        "generated_at": "2026-12-31T23:59:58.123456+00:00",
        "channels": channels,
        "total": {"received": 90, "completed": 73, "completed_on_time": 65, "overdue": 9},
        "children": [
            {
                "unit": f"{unit}-A",
                "unit_name": "Seksi A",
                "channels": {
                    "pengaduan": _handling(mark, mark, mark, mark),
                    "wbs": {"received": 0, "completed": 0},
                    "gratifikasi": {"received": mark},
                    "benturan_kepentingan": {"declarations": 6},
                },
                "total": {"received": 12, "completed": mark},
            },
            {
                "unit": f"{unit}-B",
                "unit_name": "Seksi B",
                "channels": {c: {"received": 0} for c in channels},
                "total": {"received": 0},
            },
        ],
    }
    return copy.deepcopy(body)
