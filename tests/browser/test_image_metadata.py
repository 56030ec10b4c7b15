"""Photos lose their hidden metadata (EXIF: GPS position, camera, author) in the browser
before encryption: `wbs/static/js/images.js` re-encodes the pixels through a canvas."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.live import Live, Watch, start_live

pytestmark = pytest.mark.browser

SECRET_AUTHOR = "KANARI-PEMOTRET-93ab"


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x013B] = SECRET_AUTHOR  # Artist
    exif[0x010F] = "KameraRahasia"  # Make
    gps = {1: "S", 2: (6.0, 10.0, 30.0), 3: "E", 4: (106.0, 49.0, 0.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


STRIP = """async (bytes) => {
  const { stripImage } = await import('/static/js/images.js');
  const file = new File([new Uint8Array(bytes)], 'foto.jpg', { type: 'image/jpeg' });
  const { blob, stripped } = await stripImage(file);
  const other = new File([new Uint8Array([1, 2, 3])], 'data.bin', { type: 'application/pdf' });
  const kept = await stripImage(other);
  return { stripped, type: blob.type, bytes: [...new Uint8Array(await blob.arrayBuffer())],
           otherStripped: kept.stripped, otherSame: kept.blob === other };
}"""


async def test_photo_metadata_is_removed_in_the_browser(
    browser: Any, tmp_path: Path, databases: Any, serve: Any
) -> None:
    live: Live = await start_live(tmp_path, databases, serve)
    original = jpeg_with_exif()
    assert SECRET_AUTHOR.encode() in original and b"Exif" in original
    watch = Watch()
    context = await browser.new_context()
    page = watch.attach(await context.new_page())
    await page.goto(f"{live.url}/kotak-surat")
    result = await page.evaluate(STRIP, list(original))
    cleaned = bytes(result["bytes"])
    assert result["stripped"] is True and result["type"] == "image/jpeg"
    assert SECRET_AUTHOR.encode() not in cleaned and b"KameraRahasia" not in cleaned
    assert b"Exif" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.size == (64, 48)
        assert not image.getexif()
        red, green, blue = image.convert("RGB").getpixel((32, 24))
        assert red > 150 and green < 80 and blue < 80  # the picture itself survives
    assert result["otherStripped"] is False and result["otherSame"] is True
    assert watch.csp_violations() == []
    await context.close()
