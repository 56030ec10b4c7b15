"""What every indicator field means, in Bahasa Indonesia and English.

One table for the dashboard (labels, definitions on hover), the API (OpenAPI descriptions in
`schemas.py`), the public page and the evaluator exports. Keys are the JSON field names;
breakdown keys (`forwarded.kpk`, `by_value_band.<option>` ...) take their labels from the
workflow files, and the two keys added by wbs are in `EXTRA_KEYS`.
"""

from __future__ import annotations

from wbs.core.text import Text

CHANNELS = ("pengaduan", "wbs", "gratifikasi", "benturan_kepentingan")

# Percentiles: nearest rank. The p-th percentile of n values sorted ascending is the value at
# rank ceil(p/100 * n); the median is the 50th (the lower middle value when n is even).
PERCENTILE_RULE = Text(
    "Persentil peringkat terdekat: nilai ke-⌈p/100 × n⌉ dari n nilai yang diurutkan naik; "
    "median = persentil ke-50 (nilai tengah bawah bila n genap).",
    "Nearest-rank percentile: the ⌈p/100 × n⌉-th of the n values sorted ascending; "
    "median = the 50th percentile (the lower middle value when n is even).",
)

PERIOD_RULE = Text(
    "Kasus dihitung pada periode saat diterima (waktu pengiriman menurut zona waktu layanan, "
    "Asia/Jakarta). Tahap (diverifikasi, selesai, ...) dihitung dari kasus yang diterima pada "
    "periode itu dan telah mencapai tahap tersebut pada saat penghitungan, kapan pun tahap "
    "itu dicapai. Unit induk mencakup dirinya dan seluruh unit di bawahnya.",
    "A case counts in the period it was received (its submission time in the service's time "
    "zone, Asia/Jakarta). Stages (verified, completed, ...) count the cases received in the "
    "period that had reached the stage when the figures were computed, whenever they reached "
    "it. A parent unit includes itself and every unit below it.",
)

SUPPRESSION_RULE = Text(
    "Angka publik: sel yang dibangun dari 1 sampai k-1 kasus ditampilkan '<k'; sel lain yang "
    "ikut disembunyikan agar sel kecil tidak dapat dihitung dari jumlah atau selisih "
    "ditampilkan 'x'; nol ditampilkan 0. Angka publik hanya untuk tahun yang sudah berakhir.",
    "Public figures: a cell built from 1 to k-1 cases shows '<k'; other cells withheld so that "
    "a small cell cannot be computed from totals or differences show 'x'; zero shows 0. "
    "Public figures cover complete years only.",
)

# The figures of a channel block, in the order the pages show them: every channel's, then
# its own. `forwarded.kpk` is a key of the `forwarded` table. The dashboard, the public page
# and the ZI link (which figures an LKE rule may name) all take their lists from here.
COMMON_FIGURES = (
    "received",
    "received_form",
    "received_e2e",
    "first_responded",
    "verified",
    "followed_up",
    "completed",
    "completed_on_time",
    "completed_on_time_pct",
    "overdue",
    "first_response_wd_median",
    "first_response_wd_p90",
    "completion_wd_median",
    "completion_wd_p90",
    "forwarded.kpk",
    "forwarded.apip",
    "forwarded.aph",
    "forwarded.other_unit",
    "mailbox_questions",
    "mailbox_answers",
)
CHANNEL_FIGURES: dict[str, tuple[str, ...]] = {
    "pengaduan": (),
    "wbs": ("feedback_3m_due", "feedback_3m", "feedback_3m_pct"),
    "gratifikasi": ("refusals", "donations"),
    "benturan_kepentingan": ("declarations", "complaints"),
}


def channel_figures(channel: str) -> tuple[str, ...]:
    """Every single-valued figure of a channel's block (breakdown tables aside)."""
    return (*COMMON_FIGURES, *CHANNEL_FIGURES.get(channel, ()))


LABELS: dict[str, Text] = {
    "received": Text("Diterima", "Received"),
    "received_form": Text("Diterima lewat formulir tanpa JavaScript", "Received by plain form"),
    "received_e2e": Text("Diterima terenkripsi di perangkat", "Received encrypted on device"),
    "verified": Text("Terverifikasi", "Verified"),
    "followed_up": Text("Ditindaklanjuti", "Followed up"),
    "completed": Text("Selesai", "Completed"),
    "completed_on_time": Text("Selesai tepat waktu", "Completed on time"),
    "completed_on_time_pct": Text("Selesai tepat waktu (%)", "Completed on time (%)"),
    "overdue": Text("Lewat tenggat saat ini", "Overdue now"),
    "first_responded": Text("Mendapat respons pertama", "Given a first response"),
    "first_response_wd_median": Text(
        "Median hari kerja sampai respons pertama", "Median working days to first response"
    ),
    "first_response_wd_p90": Text(
        "P90 hari kerja sampai respons pertama", "P90 working days to first response"
    ),
    "completion_wd_median": Text(
        "Median hari kerja sampai selesai", "Median working days to completion"
    ),
    "completion_wd_p90": Text("P90 hari kerja sampai selesai", "P90 working days to completion"),
    "forwarded": Text("Diteruskan atau dilimpahkan", "Forwarded or referred"),
    "forwarded.kpk": Text("ke KPK", "to KPK"),
    "forwarded.apip": Text("ke APIP", "to APIP"),
    "forwarded.aph": Text("ke aparat penegak hukum", "to law enforcement"),
    "forwarded.other_unit": Text("ke unit atau instansi lain", "to another unit or agency"),
    "mailbox_questions": Text("Pesan pelapor", "Reporter messages"),
    "mailbox_answers": Text("Pesan petugas", "Officer messages"),
    "mailbox_questions_cases": Text("Kasus dengan pesan pelapor", "Cases with reporter messages"),
    "mailbox_answers_cases": Text("Kasus dengan pesan petugas", "Cases with officer messages"),
    "feedback_3m_due": Text(
        "Pelapor WBS yang tenggat umpan baliknya telah lewat",
        "WBS reporters whose feedback period has ended",
    ),
    "feedback_3m": Text(
        "Pelapor WBS yang mendapat umpan balik dalam 3 bulan",
        "WBS reporters given feedback within 3 months",
    ),
    "feedback_3m_pct": Text(
        "Umpan balik WBS dalam 3 bulan (%)", "WBS feedback within 3 months (%)"
    ),
    "by_value_band": Text("Menurut perkiraan nilai", "By estimated value"),
    "by_state": Text("Menurut tahap", "By stage"),
    "by_kpk_decision": Text("Menurut penetapan KPK", "By KPK decision"),
    "refusals": Text("Penolakan gratifikasi", "Refused gifts"),
    "donations": Text("Penyaluran (makanan mudah rusak)", "Donated perishables"),
    "declarations": Text("Deklarasi", "Declarations"),
    "complaints": Text("Aduan", "Complaints"),
    "by_control": Text("Menurut bentuk pengendalian", "By form of control"),
}

DEFINITIONS: dict[str, Text] = {
    "unit": Text("Kode unit.", "The unit's code."),
    "unit_name": Text("Nama unit.", "The unit's name."),
    "period": Text(
        "Periode: tahun (2026), triwulan (2026-Q1) atau bulan (2026-03).",
        "Period: a year (2026), a quarter (2026-Q1) or a month (2026-03).",
    ),
    "period_start": Text("Hari pertama periode.", "First day of the period."),
    "period_end": Text("Hari terakhir periode.", "Last day of the period."),
    "suppressed_below": Text(
        "Batas k sel kecil pada angka publik; kosong pada angka untuk petugas.",
        "The small-cell threshold k of public figures; null for staff figures.",
    ),
    "generated_at": Text("Waktu angka dihitung (UTC).", "When the figures were computed (UTC)."),
    "as_of": Text(
        "Hari acuan untuk 'lewat tenggat saat ini' dan umpan balik WBS.",
        "The day 'overdue now' and WBS feedback are counted on.",
    ),
    "channels": Text(
        "Angka per kanal: pengaduan, wbs, gratifikasi, benturan_kepentingan.",
        "Figures per channel: pengaduan, wbs, gratifikasi, benturan_kepentingan.",
    ),
    "total": Text(
        "Keempat kanal digabung (jumlah; median dan P90 atas semua kasus).",
        "The four channels together (sums; median and P90 over all cases).",
    ),
    "children": Text(
        "Unit langsung di bawahnya, masing-masing dengan seluruh unit di bawahnya.",
        "The units directly below, each with every unit below it.",
    ),
    "monthly": Text(
        "Laporan diterima per bulan per kanal (hanya angka petugas).",
        "Reports received per month per channel (staff figures only).",
    ),
    "received": Text("Laporan yang diterima pada periode ini.", "Reports received in the period."),
    "received_form": Text(
        "Diterima lewat formulir tanpa JavaScript (disegel di server, di memori).",
        "Received by the no-JavaScript form (sealed in memory on the server).",
    ),
    "received_e2e": Text(
        "Diterima terenkripsi di peramban atau klien pelapor (API).",
        "Received encrypted in the reporter's browser or client (API).",
    ),
    "verified": Text(
        "Kasus yang diterima pada periode ini dan telah mencapai tahap terverifikasi.",
        "Cases received in the period that have reached a verified stage.",
    ),
    "followed_up": Text(
        "Kasus yang diterima pada periode ini dan telah ditindaklanjuti "
        "(tahap tindak lanjut, telaah lanjutan, penerusan ke KPK, pengendalian).",
        "Cases received in the period that have been followed up "
        "(follow-up, investigation, referral to KPK, control set).",
    ),
    "completed": Text(
        "Kasus yang diterima pada periode ini dan telah berakhir (selesai, diteruskan karena "
        "bukan wewenang, diarsipkan, gugur atau tidak dapat ditindaklanjuti).",
        "Cases received in the period that have ended (closed, forwarded as outside the "
        "remit, archived, dropped or not followed up).",
    ),
    "completed_on_time": Text(
        "Kasus selesai yang tidak pernah melewati tenggat: setiap tenggat yang dihentikan "
        "dihentikan paling lambat pada tanggal jatuh temponya (jeda menunggu pelapor "
        "memperpanjang tenggat).",
        "Completed cases that never missed a deadline: every deadline that was stopped was "
        "stopped on or before its due date (pauses waiting for the reporter extend it).",
    ),
    "completed_on_time_pct": Text(
        "completed_on_time / completed × 100, satu desimal; kosong bila belum ada yang selesai.",
        "completed_on_time / completed × 100, one decimal; null when none is completed.",
    ),
    "overdue": Text(
        "Kasus yang belum berakhir dengan tenggat berjalan (tidak dihentikan, tidak dijeda) "
        "yang jatuh temponya sebelum hari acuan.",
        "Cases not yet ended with a running deadline (not stopped, not paused) due before "
        "the as-of day.",
    ),
    "first_responded": Text(
        "Kasus yang telah meninggalkan tahap awalnya (respons pertama petugas).",
        "Cases that have left their first stage (the officers' first response).",
    ),
    "first_response_wd_median": Text(
        "Median hari kerja dari hari diterima sampai respons pertama, atas first_responded.",
        "Median working days from the day received to the first response, over first_responded.",
    ),
    "first_response_wd_p90": Text(
        "Persentil ke-90 hari kerja sampai respons pertama.",
        "90th percentile of working days to the first response.",
    ),
    "completion_wd_median": Text(
        "Median hari kerja dari hari diterima sampai berakhir, atas completed.",
        "Median working days from the day received to the end, over completed.",
    ),
    "completion_wd_p90": Text(
        "Persentil ke-90 hari kerja sampai berakhir.",
        "90th percentile of working days to the end.",
    ),
    "forwarded": Text(
        "Kasus yang diteruskan atau dilimpahkan, menurut tujuan: kpk (gratifikasi diteruskan "
        "ke KPK; WBS dilimpahkan ke KPK), apip (WBS ke APIP atau Inspektorat Jenderal), aph "
        "(WBS ke aparat penegak hukum), other_unit (pengaduan diteruskan karena bukan "
        "wewenang).",
        "Cases forwarded or referred, by target: kpk (gratification forwarded to KPK; WBS "
        "referred to KPK), apip (WBS to APIP or the Inspectorate General), aph (WBS to law "
        "enforcement), other_unit (complaints forwarded as outside the remit).",
    ),
    "forwarded.kpk": Text("Diteruskan ke KPK.", "Forwarded to KPK."),
    "forwarded.apip": Text(
        "Dilimpahkan ke APIP atau Inspektorat Jenderal.",
        "Referred to APIP or the Inspectorate General.",
    ),
    "forwarded.aph": Text("Dilimpahkan ke aparat penegak hukum.", "Referred to law enforcement."),
    "forwarded.other_unit": Text(
        "Diteruskan ke unit atau instansi lain (bukan wewenang).",
        "Forwarded to another unit or agency (outside the remit).",
    ),
    "mailbox_questions": Text(
        "Pesan yang dikirim pelapor lewat kotak surat untuk kasus periode ini.",
        "Messages reporters sent through the mailbox on the period's cases.",
    ),
    "mailbox_answers": Text(
        "Pesan petugas kepada pelapor (termasuk pesan yang menyertai tindakan).",
        "Officer messages to reporters (including those sent with an action).",
    ),
    "mailbox_questions_cases": Text(
        "Kasus dengan sedikitnya satu pesan pelapor.", "Cases with at least one reporter message."
    ),
    "mailbox_answers_cases": Text(
        "Kasus dengan sedikitnya satu pesan petugas.", "Cases with at least one officer message."
    ),
    "feedback_3m_due": Text(
        "Laporan WBS periode ini yang sudah diterima 90 hari atau lebih sebelum hari acuan.",
        "WBS reports of the period received 90 days or more before the as-of day.",
    ),
    "feedback_3m": Text(
        "Dari feedback_3m_due: pelapor yang menerima pesan petugas dalam 90 hari sejak "
        "laporan diterima (3 bulan, Direktif UE 2019/1937 Pasal 9).",
        "Of feedback_3m_due: reporters who got an officer message within 90 days of the "
        "report (3 months, EU Directive 2019/1937 art. 9).",
    ),
    "feedback_3m_pct": Text(
        "feedback_3m / feedback_3m_due × 100, satu desimal.",
        "feedback_3m / feedback_3m_due × 100, one decimal.",
    ),
    "by_value_band": Text(
        "Laporan gratifikasi menurut perkiraan nilai yang dicatat UPG; belum_dicatat bila "
        "belum ada.",
        "Gratification reports by the estimated value the UPG recorded; belum_dicatat when "
        "none yet.",
    ),
    "by_state": Text(
        "Laporan gratifikasi menurut tahap alur kerja saat ini.",
        "Gratification reports by their current workflow stage.",
    ),
    "by_kpk_decision": Text(
        "Laporan gratifikasi yang diteruskan ke KPK menurut penetapan KPK; "
        "menunggu_penetapan bila belum ditetapkan.",
        "Gratification reports forwarded to KPK by the KPK decision; menunggu_penetapan "
        "while undecided.",
    ),
    "refusals": Text(
        "Laporan penolakan gratifikasi (jenis_laporan penolakan).",
        "Reports of refused gifts (jenis_laporan penolakan).",
    ),
    "donations": Text(
        "Laporan penyaluran makanan mudah rusak (jenis_laporan penyaluran).",
        "Reports of donated perishables (jenis_laporan penyaluran).",
    ),
    "declarations": Text(
        "Deklarasi benturan kepentingan (jenis deklarasi atau deklarasi berkala).",
        "Conflict-of-interest declarations (jenis deklarasi or periodic declaration).",
    ),
    "complaints": Text(
        "Aduan benturan kepentingan (jenis aduan).", "Conflict-of-interest complaints (aduan)."
    ),
    "by_control": Text(
        "Kasus benturan kepentingan menurut bentuk pengendalian yang ditetapkan atasan; "
        "belum_dicatat bila belum ditetapkan.",
        "Conflict-of-interest cases by the form of control the superior set; belum_dicatat "
        "while none is set.",
    ),
}

# Breakdown keys wbs adds to a fact's options (their meaning, for every `by_*` table).
EXTRA_KEYS: dict[str, Text] = {
    "belum_dicatat": Text("Belum dicatat", "Not recorded yet"),
    "menunggu_penetapan": Text("Menunggu penetapan", "Awaiting the decision"),
}


def label(key: str, lang: str) -> str:
    """The short label of a field (the key itself when it has none)."""
    found = LABELS.get(key) or EXTRA_KEYS.get(key)
    return found.get(lang) if found else key


def definition(key: str, lang: str) -> str:
    found = DEFINITIONS.get(key)
    return found.get(lang) if found else ""
