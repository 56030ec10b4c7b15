// Removing hidden data (EXIF: location, time, device) from photos by re-encoding the pixels
// through a canvas. Only the pixels survive; orientation is applied first.

const REENCODE = new Set(["image/jpeg", "image/png", "image/webp"]);

/** {blob, stripped}: a clean copy of an image where the browser can, else the file itself. */
export async function stripImage(file) {
  if (!REENCODE.has(file.type) || typeof createImageBitmap !== "function") {
    return { blob: file, stripped: false };
  }
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    canvas.getContext("2d").drawImage(bitmap, 0, 0);
    bitmap.close();
    const blob = await canvas.convertToBlob({ type: file.type, quality: 0.92 });
    // Some browsers fall back to PNG for a type they cannot encode; keep what they made.
    return { blob, stripped: true };
  } catch {
    return { blob: file, stripped: false };
  }
}
