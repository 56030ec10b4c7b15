"""Indicators equal the values counted by hand (tests/indicators/dataset.py) on PostgreSQL
and SQLite: the whole tree, a child, a grandchild, quarters, a month and the year before."""

from __future__ import annotations

from datetime import date

import pytest

from tests.indicators.dataset import AS_OF, build
from wbs.core.errors import ValidationFailed
from wbs.indicators.service import compute, compute_tree, parse_period

NO_FORWARD = {"kpk": 0, "apip": 0, "aph": 0, "other_unit": 0}
NO_MAIL = {
    "mailbox_questions": 0,
    "mailbox_answers": 0,
    "mailbox_questions_cases": 0,
    "mailbox_answers_cases": 0,
}

# P over its whole tree, 2026 (received 1 Jan .. 31 Dec 2026 WIB), as of Mon 4 Jan 2027.
PENGADUAN_2026 = {  # p1, p3 (A1), p4 (B); p2 arrived in 2025
    "received": 3,
    "received_form": 1,  # p3
    "received_e2e": 2,
    "verified": 1,  # p1
    "followed_up": 1,  # p1
    "completed": 2,  # p3 archived, p4 forwarded
    "completed_on_time": 1,  # p3 (p4's verification was late)
    "completed_on_time_pct": 50.0,
    "overdue": 1,  # p1 waits past konfirmasi_pelapor's due day
    "first_responded": 3,
    "first_response_wd_median": 1,  # [1, 1, 6]: rank 2
    "first_response_wd_p90": 6,  # rank ceil(2.7) = 3
    "completion_wd_median": 2,  # [2, 7]: rank 1
    "completion_wd_p90": 7,  # rank ceil(1.8) = 2
    "forwarded": {**NO_FORWARD, "other_unit": 1},  # p4
    "mailbox_questions": 1,
    "mailbox_answers": 1,
    "mailbox_questions_cases": 1,
    "mailbox_answers_cases": 1,
}
WBS_2026 = {  # w1 (A), w2 (B), w3 (A1), w4 (P)
    "received": 4,
    "received_form": 0,
    "received_e2e": 4,
    "verified": 1,  # w1
    "followed_up": 1,  # w1
    "completed": 2,  # w1, w2
    "completed_on_time": 1,  # w2 (w1 acknowledged after 7 days)
    "completed_on_time_pct": 50.0,
    "overdue": 2,  # w3, w4
    "first_responded": 3,  # w1, w2, w4: 1 WD each
    "first_response_wd_median": 1,
    "first_response_wd_p90": 1,
    "completion_wd_median": 3,  # [3, 32]
    "completion_wd_p90": 32,
    "forwarded": {**NO_FORWARD, "apip": 1},  # w1 to the Inspektorat Jenderal
    "mailbox_questions": 0,
    "mailbox_answers": 2,  # w1, w4
    "mailbox_questions_cases": 0,
    "mailbox_answers_cases": 2,
    "feedback_3m_due": 3,  # w1, w2, w4 (w3's 90 days end in 2027)
    "feedback_3m": 1,  # w1 (w2 none, w4 after 97 days)
    "feedback_3m_pct": 33.3,
}
GRATIFIKASI_2026 = {  # g1 (A), g2 (A1), g3 (B), g4 (B), g5 (P, 31 Dec 23:00 WIB)
    "received": 5,
    "received_form": 1,  # g4
    "received_e2e": 4,
    "verified": 2,  # g1, g5
    "followed_up": 1,  # g1
    "completed": 3,  # g2, g3, g5 (completed on 4 Jan 2027)
    "completed_on_time": 3,
    "completed_on_time_pct": 100.0,
    "overdue": 2,  # g1 (hand-over), g4 (untouched)
    "first_responded": 4,
    "first_response_wd_median": 1,
    "first_response_wd_p90": 1,
    "completion_wd_median": 1,
    "completion_wd_p90": 1,
    "forwarded": {**NO_FORWARD, "kpk": 1},  # g1
    **NO_MAIL,
    "by_value_band": {
        "kurang_1jt": 1,  # g3
        "antara_1_10jt": 1,  # g1
        "antara_10_100jt": 0,
        "lebih_100jt": 1,  # g5
        "belum_dicatat": 2,  # g2 (a refusal without a value), g4
    },
    "by_state": {
        "dilaporkan": 1,  # g4
        "verifikasi_upg": 0,
        "perlu_kelengkapan": 0,
        "menunggu_penetapan": 0,
        "ditetapkan": 1,  # g1
        "tindak_lanjut_sk": 0,
        "tidak_wajib_lapor": 1,  # g5
        "gugur": 0,
        "dicatat": 2,  # g2, g3
        "selesai": 0,
    },
    "by_kpk_decision": {
        "milik_negara": 1,
        "milik_negara_dapat_diganti_uang": 0,
        "milik_penerima": 0,
        "tidak_ditindaklanjuti": 0,
        "menunggu_penetapan": 0,
    },
    "refusals": 1,  # g2
    "donations": 1,  # g3
}
BENTURAN_2026 = {  # b1 (A1), b2 (B), b3 (A)
    "received": 3,
    "received_form": 1,  # b3
    "received_e2e": 2,
    "verified": 1,  # b1
    "followed_up": 1,  # b1
    "completed": 2,  # b1, b2
    "completed_on_time": 1,  # b1
    "completed_on_time_pct": 50.0,
    "overdue": 1,  # b3
    "first_responded": 2,  # b1 1 WD, b2 10 WD
    "first_response_wd_median": 1,
    "first_response_wd_p90": 10,
    "completion_wd_median": 10,  # [10, 16]
    "completion_wd_p90": 16,
    "forwarded": NO_FORWARD,
    **NO_MAIL,
    "declarations": 1,
    "complaints": 1,
    "by_control": {
        "tidak_ada_konflik": 0,
        "pembatasan": 0,
        "recusal_delegasi": 1,
        "mutasi": 0,
        "belum_dicatat": 2,
    },
}
TOTAL_2026 = {
    "received": 15,
    "received_form": 3,
    "received_e2e": 12,
    "verified": 5,
    "followed_up": 4,
    "completed": 9,
    "completed_on_time": 6,
    "completed_on_time_pct": 66.7,
    "overdue": 6,
    "first_responded": 12,
    # Ten cases at 1 WD, then 6 and 10: rank 6 is 1, rank ceil(10.8) = 11 is 6.
    "first_response_wd_median": 1,
    "first_response_wd_p90": 6,
    # 1, 1, 1, 2, 3, 7, 10, 16, 32: rank 5 is 3, rank 9 is 32.
    "completion_wd_median": 3,
    "completion_wd_p90": 32,
    "forwarded": {"kpk": 1, "apip": 1, "aph": 0, "other_unit": 1},
    "mailbox_questions": 1,
    "mailbox_answers": 3,
    "mailbox_questions_cases": 1,
    "mailbox_answers_cases": 3,
}


def _strip(figures):
    return {k: v for k, v in figures.items() if k != "generated_at"}


@pytest.fixture
async def tree(db, make_unit, make_staff):
    return await build(db, make_unit, make_staff)


async def test_the_whole_tree_in_2026(db, tree):
    found = await compute_tree(db, tree.p, parse_period("2026"), public=False, today=AS_OF)
    assert found["unit"] == tree.p.code and found["unit_name"] == "Kementerian Uji"
    assert (found["period"], found["period_start"], found["period_end"]) == (
        "2026",
        "2026-01-01",
        "2026-12-31",
    )
    assert found["suppressed_below"] is None and found["as_of"] == "2027-01-04"
    assert found["channels"] == {
        "pengaduan": PENGADUAN_2026,
        "wbs": WBS_2026,
        "gratifikasi": GRATIFIKASI_2026,
        "benturan_kepentingan": BENTURAN_2026,
    }
    assert found["total"] == TOTAL_2026
    assert found["monthly"] == {
        "months": [f"2026-{m:02d}" for m in range(1, 13)],
        "received": {
            "pengaduan": [1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0],  # p3 Jan, p1 Mar, p4 Jun
            "wbs": [0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0],  # w4 Feb, w1 Mar, w2 Sep, w3 Nov
            "gratifikasi": [0, 0, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1],
            "benturan_kepentingan": [0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0],
        },
    }
    children = {c["unit"]: c for c in found["children"]}
    assert set(children) == {tree.a.code, tree.b.code}
    a, b = children[tree.a.code], children[tree.b.code]
    # A with A1: p1, p3, w1, w3, g1, g2, b1, b3; B: p4, w2, g3, g4, b2; P itself: w4, g5.
    assert (a["total"]["received"], b["total"]["received"]) == (8, 5)
    assert a["total"]["completed"] == 4 and a["total"]["completed_on_time"] == 3
    assert b["total"]["completed"] == 4 and b["total"]["completed_on_time"] == 2
    assert (a["total"]["overdue"], b["total"]["overdue"]) == (4, 1)
    assert a["channels"]["wbs"]["feedback_3m_due"] == 1 and a["channels"]["wbs"]["feedback_3m"] == 1
    assert a["channels"]["wbs"]["feedback_3m_pct"] == 100.0
    assert b["channels"]["wbs"]["feedback_3m_pct"] == 0.0
    assert a["channels"]["gratifikasi"]["refusals"] == 1
    assert b["channels"]["gratifikasi"]["donations"] == 1
    assert a["channels"]["benturan_kepentingan"]["by_control"]["recusal_delegasi"] == 1
    # B's first responses: p4 6, w2 1, g3 1, b2 10 -> median rank 2 = 1, p90 rank 4 = 10;
    # completions: g3 1, w2 3, p4 7, b2 10 -> median 3, p90 10.
    assert [b["total"][k] for k in ("first_response_wd_median", "first_response_wd_p90")] == [1, 10]
    assert [b["total"][k] for k in ("completion_wd_median", "completion_wd_p90")] == [3, 10]
    # A: completions p3 2, w1 32, g2 1, b1 16 -> [1, 2, 16, 32]: median 2, p90 32.
    assert [a["total"][k] for k in ("completion_wd_median", "completion_wd_p90")] == [2, 32]


async def test_a_child_and_a_grandchild(db, tree):
    a = await compute(db, tree.a, parse_period("2026"), public=False, today=AS_OF)
    assert "children" not in a
    assert a["channels"]["pengaduan"]["received"] == 2 and a["channels"]["wbs"]["received"] == 2
    a1 = await compute_tree(db, tree.a1, parse_period("2026"), public=False, today=AS_OF)
    assert a1["children"] == []
    # A1: p1, p3, w3, g2, b1.
    assert {c: f["received"] for c, f in a1["channels"].items()} == {
        "pengaduan": 2,
        "wbs": 1,
        "gratifikasi": 1,
        "benturan_kepentingan": 1,
    }
    assert a1["total"]["completed"] == 3 and a1["total"]["overdue"] == 2


async def test_periods_follow_the_day_received_in_jakarta(db, tree):
    year_2025 = await compute(db, tree.p, parse_period("2025"), public=False, today=AS_OF)
    # p2 only: 23:30 WIB on 31 Dec 2025; completed (forwarded) in January 2026 on its due day.
    assert year_2025["total"]["received"] == 1
    assert year_2025["channels"]["pengaduan"] == {
        **{k: 0 for k in PENGADUAN_2026 if k != "forwarded"},
        "received": 1,
        "received_form": 1,
        "completed": 1,
        "completed_on_time": 1,
        "completed_on_time_pct": 100.0,
        "first_responded": 1,
        "first_response_wd_median": 2,  # 5 Jan: 2 Jan and 5 Jan (1 Jan a holiday)
        "first_response_wd_p90": 2,
        "completion_wd_median": 3,
        "completion_wd_p90": 3,
        "forwarded": {**NO_FORWARD, "other_unit": 1},
    }
    january = await compute(db, tree.p, parse_period("2026-01"), public=False, today=AS_OF)
    # p3 arrived at 00:30 WIB on 1 Jan (31 Dec in UTC): January, not 2025.
    assert january["total"]["received"] == 1 and january["channels"]["pengaduan"]["received"] == 1
    assert (january["period_start"], january["period_end"]) == ("2026-01-01", "2026-01-31")
    q1 = await compute(db, tree.p, parse_period("2026-Q1"), public=False, today=AS_OF)
    assert q1["total"]["received"] == 4  # p1, p3, w1, w4
    assert q1["monthly"]["received"]["wbs"] == [0, 1, 1]
    q4 = await compute(db, tree.p, parse_period("2026-Q4"), public=False, today=AS_OF)
    # w3, g4, g5, b3; g5 (31 Dec, 23:00 WIB) completed in 2027 counts as completed here.
    assert q4["total"]["received"] == 4 and q4["total"]["completed"] == 1
    assert q4["period_end"] == "2026-12-31"


async def test_overdue_is_as_of_the_day_given(db, tree):
    early = await compute(
        db, tree.p, parse_period("2026-Q4"), public=False, today=date(2026, 10, 20)
    )
    # On 20 Oct only g4 (teruskan_kpk due 19 Oct) is late; b3 (due 21 Oct) not yet, w3 and
    # g5 not received yet.
    assert early["total"]["overdue"] == 1 and early["channels"]["gratifikasi"]["overdue"] == 1


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026", date(2026, 1, 1), date(2027, 1, 1)),
        ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
        ("2024-02", date(2024, 2, 1), date(2024, 3, 1)),
        (" 2026-12 ", date(2026, 12, 1), date(2027, 1, 1)),
    ],
)
def test_periods_parse(text, start, end):
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    "text", ["", "26", "2026-Q5", "2026-13", "2026-00", "1999", "2026-q1", "x"]
)
def test_bad_periods_are_a_bilingual_422(text):
    with pytest.raises(ValidationFailed) as caught:
        parse_period(text)
    assert caught.value.status == 422 and "Periode" in caught.value.text.id
    assert "period" in caught.value.text.en
