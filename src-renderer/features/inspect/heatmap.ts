/**
 * Colours a heatmap for display over the image. The stored heatmap is a 16-bit grayscale PNG
 * whose value/65535 is the normalised pixel score (0.5 = the pixel threshold); the browser
 * decodes it to 8 bits, plenty for display. Below the threshold is transparent, above it the
 * colour runs from yellow to red and the overlay grows more opaque.
 */
export function colourHeatmap(source: ImageData, opacity: number): ImageData {
  const out = new ImageData(source.width, source.height);
  for (let i = 0; i < source.data.length; i += 4) {
    const v = source.data[i] / 255;
    const strength = Math.min(1, Math.max(0, (v - 0.45) / 0.4));
    out.data[i] = 255;
    out.data[i + 1] = Math.round(230 * (1 - strength));
    out.data[i + 2] = 0;
    out.data[i + 3] = v < 0.45 ? 0 : Math.round(255 * opacity * (0.35 + 0.65 * strength));
  }
  return out;
}

export function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`cannot load ${url}`));
    image.src = url;
  });
}
