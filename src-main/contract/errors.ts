import type { ApiErrorBody, ErrorCode } from './contract.ts';

/**
 * An error meant for the user: its message is shown as is, its code lets callers branch. `text`
 * (a message key and its parameters) lets a user interface say it in the user's language.
 */
export class ArgusError extends Error {
  readonly code: ErrorCode;
  readonly text?: ApiErrorBody['text'];
  constructor(code: ErrorCode, message: string, text?: ApiErrorBody['text']) {
    super(message);
    this.name = 'ArgusError';
    this.code = code;
    this.text = text;
  }
}

/** Failures of the disk or file system rather than of the input (disk full, read-only, no permission). */
export function isStorageFailure(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'SQLITE_FULL' || code === 'SQLITE_READONLY' || code === 'SQLITE_IOERR';
}

export function toErrorBody(error: unknown): ApiErrorBody {
  if (error instanceof ArgusError) return { code: error.code, message: error.message, ...(error.text ? { text: error.text } : {}) };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return { code: 'storage', message: 'The disk holding the data directory is full.', text: { key: 'diskFull' } };
  if (code === 'SQLITE_IOERR') return { code: 'storage', message: `The database could not be written (${(error as Error).message}).` };
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return { code: 'storage', message: `The data directory cannot be written (${code}).` };
  }
  if (code === 'SQLITE_FULL') return { code: 'storage', message: 'The database cannot grow: the disk is full.' };
  if (code === 'SQLITE_READONLY') return { code: 'storage', message: 'The database is read-only.' };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message };
}
