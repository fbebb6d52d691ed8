import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';

/**
 * The first file of a multipart/form-data body, handed to `store` as a stream while it arrives
 * (never held in memory). Other fields are ignored; a body without a file is an error.
 */
export function firstMultipartFile<T>(req: IncomingMessage, maxBytes: number, store: (file: AsyncIterable<Uint8Array>) => Promise<T>): Promise<{ stored: T; name: string }> {
  return new Promise((resolve, reject) => {
    let taken = false;
    const parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes } });
    parser.on('file', (_field, stream, info) => {
      if (taken) return void stream.resume();
      taken = true;
      let truncated = false;
      stream.on('limit', () => (truncated = true));
      store(stream).then(
        (stored) => (truncated ? reject(new Error('Upload too large')) : resolve({ stored, name: info.filename || 'image' })),
        reject,
      );
    });
    parser.on('error', reject);
    parser.on('close', () => {
      if (!taken) reject(new Error('The form carries no file'));
    });
    req.pipe(parser);
  });
}
