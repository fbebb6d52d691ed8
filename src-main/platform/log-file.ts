import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type LogLevel = 'info' | 'warn' | 'error';

/**
 * The station's log: one line per event (time, level, source, message) appended to
 * `<dir>/argus.log`. Past `maxBytes` the file becomes argus.1.log, argus.1.log becomes argus.2.log
 * and so on; the oldest beyond `keep` files is dropped, so the log never fills the disk.
 */
export class RotatingLog {
  readonly file: string;

  constructor(readonly dir: string, private readonly maxBytes = 5 * 2 ** 20, private readonly keep = 5) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'argus.log');
  }

  write(level: LogLevel, source: string, message: string): void {
    const line = `${new Date().toISOString()} ${level.toUpperCase()} [${source}] ${message.replace(/\r?\n/g, '\n    ')}\n`;
    try {
      if (existsSync(this.file) && statSync(this.file).size + line.length > this.maxBytes) this.rotate();
      appendFileSync(this.file, line);
    } catch {
      // A log that cannot be written must never take the station down with it.
    }
  }

  /** An error with its stack, for the log. */
  static describe(error: unknown): string {
    return error instanceof Error ? error.stack ?? `${error.name}: ${error.message}` : String(error);
  }

  private rotate(): void {
    const numbered = (k: number): string => join(this.dir, `argus.${k}.log`);
    rmSync(numbered(this.keep - 1), { force: true });
    for (let k = this.keep - 2; k >= 1; k--) if (existsSync(numbered(k))) renameSync(numbered(k), numbered(k + 1));
    renameSync(this.file, numbered(1));
  }
}
