import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from 'react';
import type { SessionInfo } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';

interface SessionContextValue {
  session: SessionInfo | null;
  /** True when this window may do QA-engineer work (always, until a PIN is set). */
  isEngineer: boolean;
  update(next: SessionInfo): void;
}

const SessionContext = createContext<SessionContextValue>({ session: null, isEngineer: false, update: () => undefined });

/** This window's role, shared by every page (the engine enforces it; the pages explain it). */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<SessionInfo | null>(null);
  useEffect(() => {
    void api.getSession().then(setSession, () => undefined);
  }, []);
  const update = useCallback((next: SessionInfo) => setSession(next), []);
  return <SessionContext.Provider value={{ session, isEngineer: session?.role === 'engineer', update }}>{children}</SessionContext.Provider>;
}

export const useSession = (): SessionContextValue => useContext(SessionContext);
