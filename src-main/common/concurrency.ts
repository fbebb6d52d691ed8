/**
 * Calls `fn` on every item, at most `concurrency` at a time. The first failure stops new items
 * from starting, and the returned promise rejects with it only once every call already running
 * has settled, so nothing keeps reading or writing after the caller has been told the work ended.
 */
export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await fn(items[index], index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, worker));
  const first = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (first) throw first.reason;
}
