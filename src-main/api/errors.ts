import type { ApiErrorBody, ErrorCode } from './contract.ts';

/** An error meant for the user: its message is shown as is, its code lets callers branch. */
export class ArgusError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ArgusError';
    this.code = code;
  }
}

export function toErrorBody(error: unknown): ApiErrorBody {
  if (error instanceof ArgusError) return { code: error.code, message: error.message };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC') return { code: 'storage', message: 'The disk holding the data directory is full.' };
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return { code: 'storage', message: `The data directory cannot be written (${code}).` };
  }
  if (code === 'SQLITE_FULL') return { code: 'storage', message: 'The database cannot grow: the disk is full.' };
  if (code === 'SQLITE_READONLY') return { code: 'storage', message: 'The database is read-only.' };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message };
}
