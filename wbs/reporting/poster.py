"""A unit's A4 poster as PDF: its name, channels, address as text and QR code, key fingerprint."""

from __future__ import annotations

import io

from wbs.core.text import Text

# The poster's texts: title, scan line, anonymity note, key label, unsigned-key note.
POSTER_TEXT = (
    Text(
        "Laporkan pelanggaran, keluhan, gratifikasi, dan benturan kepentingan",
        "Report wrongdoing, complaints, gratification and conflicts of interest",
    ),
    Text(
        "Pindai kode QR atau buka alamat ini:",
        "Scan the QR code or open this address:",
    ),
    Text(
        "Identitas Anda tidak diminta (kecuali laporan gratifikasi). Laporan dienkripsi di "
        "perangkat Anda; simpan tanda terima untuk melihat tanggapan.",
        "Your identity is not asked for (except for gratification reports). Reports are "
        "encrypted on your device; keep the receipt to read the answers.",
    ),
    Text(
        "Sidik jari kunci unit (cocokkan dengan yang ditampilkan saat melapor):",
        "Unit key fingerprint (compare with the one shown when you report):",
    ),
    Text(
        "Kunci unit belum ditandatangani.",
        "The unit key is not signed yet.",
    ),
)


def make_poster_pdf(
    *,
    unit_name: str,
    unit_code: str,
    address: str,
    fingerprint: str | None,
    channels: list[str],
    lang: str,
) -> bytes:
    """An A4 poster: the unit, its channels, the address as text and QR code, the key."""
    import segno
    from reportlab.graphics import renderPDF
    from reportlab.graphics.shapes import Drawing, Rect
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    title, scan, anonymity, key_label, no_key = (text.get(lang) for text in POSTER_TEXT)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True)
    pdf.setTitle(f"wbs {unit_code}")
    width, height = A4
    y = height - 30 * mm
    pdf.setFont("Helvetica-Bold", 22)
    pdf.drawCentredString(width / 2, y, unit_name[:60])
    y -= 12 * mm
    pdf.setFont("Helvetica", 14)
    pdf.drawCentredString(width / 2, y, title)
    y -= 10 * mm
    pdf.setFont("Helvetica", 12)
    for name in channels:
        pdf.drawCentredString(width / 2, y, "- " + name)
        y -= 7 * mm
    # QR code drawn as vector squares.
    matrix = list(segno.make(address, error="m").matrix_iter(border=2))
    size = 80 * mm
    cell = size / len(matrix)
    drawing = Drawing(size, size)
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                drawing.add(
                    Rect(
                        col * cell,
                        size - (row + 1) * cell,
                        cell,
                        cell,
                        fillColor="black",
                        strokeColor=None,
                    )
                )
    y -= size + 5 * mm
    renderPDF.draw(drawing, pdf, (width - size) / 2, y)
    y -= 10 * mm
    pdf.drawCentredString(width / 2, y, scan)
    y -= 8 * mm
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawCentredString(width / 2, y, address)
    y -= 12 * mm
    pdf.setFont("Helvetica", 10)
    text = pdf.beginText(25 * mm, y)
    for line in _wrap(anonymity, 95):
        text.textLine(line)
    pdf.drawText(text)
    y -= 18 * mm
    pdf.drawString(25 * mm, y, key_label if fingerprint else no_key)
    if fingerprint:
        y -= 7 * mm
        pdf.setFont("Courier-Bold", 13)
        pdf.drawString(25 * mm, y, fingerprint)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines
