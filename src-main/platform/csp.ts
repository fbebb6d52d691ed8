/**
 * The renderer's Content-Security-Policy, the same in Electron and in browser mode: nothing but
 * the app's own scripts, no remote content, images only from the app (thumbnails, heatmaps).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: argus-media:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
