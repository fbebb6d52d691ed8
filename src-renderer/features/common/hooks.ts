import { useCallback, useEffect, useState } from 'react';
import type { JobStatus } from '../../../src-main/contract/contract.ts';
import { api, client } from '../../api/client.ts';

/** Runs an async loader and re-runs it when `deps` change; `reload` re-runs it on demand. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: string; loading: boolean; reload(): void } {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error: error.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, version]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { ...state, reload };
}

/** The part of location.hash after "#/", split into segments; navigation by setting the hash. */
export function useHashRoute(): [string[], (path: string) => void] {
  const read = (): string[] => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = (): void => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return [route, (path: string) => (location.hash = `#/${path}`)];
}

/**
 * Follows a job to its end: events push progress, and polling getJob covers events that arrived
 * before the subscription or while the connection was down. A finished state is never replaced.
 */
export function useJob(jobId: string | null): JobStatus | null {
  const [job, setJob] = useState<JobStatus | null>(null);
  useEffect(() => {
    if (!jobId) return;
    let live = true;
    const update = (next: JobStatus): void => {
      if (live && next.id === jobId) setJob((current) => (current?.id === jobId && current.state !== 'running' ? current : next));
    };
    const unsubscribe = client.onEvent((event) => update(event.job));
    void (async () => {
      while (live) {
        const next = await api.getJob({ jobId }).catch(() => null);
        if (next) update(next);
        if (next && next.state !== 'running') break;
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    return () => {
      live = false;
      unsubscribe();
    };
  }, [jobId]);
  return job?.id === jobId ? job : null;
}
