import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname, uptime } from 'node:os';
import { join } from 'node:path';
import { ArgusError } from '../contract/errors.ts';

interface Holder {
  pid: number;
  host: string;
  /** When the holder's machine booted (ms since the epoch, to the minute): a lock from before a reboot is stale. */
  bootedAt: number;
  since: string;
}

const LOCK_FILE = 'argus.lock';
const BOOT_TOLERANCE_MS = 2 * 60_000;
/** Locks this process holds, with how many services share each. */
const held = new Map<string, number>();

const bootedAt = (): number => Math.round((Date.now() - uptime() * 1000) / 60_000) * 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): Holder | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Holder;
  } catch {
    return null; // vanished, or cut short by a crash while it was written
  }
}

/** Whether a lock file still belongs to a running process (on this machine, since its last boot). */
function stillHeld(holder: Holder): boolean {
  if (holder.host !== hostname()) return true; // a data directory on a share, in use by another PC
  if (Math.abs(holder.bootedAt - bootedAt()) > BOOT_TOLERANCE_MS) return false;
  return holder.pid !== process.pid && alive(holder.pid);
}

/**
 * One writer process per data directory: `argus.lock` names the process that holds it. A second
 * process is refused with a message naming the holder; a lock left by a process that died (a
 * crash, kill -9, a power cut) is taken over. Services within one process share the lock.
 * Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  const count = held.get(path);
  if (count !== undefined) {
    held.set(path, count + 1);
    return once(() => releaseOne(path));
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), bootedAt: bootedAt(), since: new Date().toISOString() } satisfies Holder));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      held.set(path, 1);
      return once(() => releaseOne(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new ArgusError('storage', `Cannot lock the data directory ${dataDir}: ${(error as Error).message}`);
    }
    const holder = readHolder(path);
    if (holder && stillHeld(holder)) {
      throw new ArgusError('conflict', `Argus is already running on this data directory (pid ${holder.pid} on ${holder.host}, since ${holder.since}): ` +
        'close it first, or use a read-only command (list, show, export, eval)', { key: 'dataDirBusy', params: { pid: holder.pid, host: holder.host } });
    }
    try {
      unlinkSync(path); // stale: its process is gone
    } catch {
      // another process removed it first; try again
    }
  }
  throw new ArgusError('conflict', `Could not lock the data directory ${dataDir}: another process keeps taking it`);
}

function releaseOne(path: string): void {
  const count = (held.get(path) ?? 1) - 1;
  if (count > 0) {
    held.set(path, count);
    return;
  }
  held.delete(path);
  if (readHolder(path)?.pid === process.pid) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}
