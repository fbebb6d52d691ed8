import { useState } from 'react';
import type { JobStatus } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';
import { en, type MessageKey } from '../../i18n/en.ts';
import { useI18n } from '../../i18n/i18n.tsx';

const hasMessage = (key: string): key is MessageKey => key in en;

/** "about 3 min" from seconds, in the user's language. */
export function useEta(): (seconds: number | null | undefined) => string | null {
  const { t } = useI18n();
  return (seconds) => {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return null;
    if (seconds < 60) return t('job.etaSeconds', { n: Math.max(1, Math.round(seconds)) });
    if (seconds < 3600) return t('job.etaMinutes', { n: Math.round(seconds / 60) });
    return t('job.etaHours', { n: (seconds / 3600).toFixed(1) });
  };
}

/** A running job: its phase, count, bar, the time left at its pace, and a cancel button. */
export function JobProgress({ job }: { job: JobStatus | null }) {
  const { t } = useI18n();
  const eta = useEta();
  const [cancelling, setCancelling] = useState(false);
  if (!job || job.state !== 'running') return null;
  const left = eta(job.etaSeconds);
  // The engine names its phases in English; the known ones are shown in the user's language.
  const phaseKey = `job.phase.${job.phase}` as MessageKey;
  const phase = hasMessage(phaseKey) ? t(phaseKey) : job.phase;
  return (
    <div className="job-progress muted" role="status" data-testid={`job-progress-${job.kind}`}>
      <span>{phase}{job.total ? ` ${job.done}/${job.total}` : ''}{left ? ` · ${t('job.left', { eta: left })}` : ''}</span>
      <progress max={job.total || 1} value={job.done} />
      <button type="button" disabled={cancelling} onClick={() => { setCancelling(true); void api.cancelJob({ jobId: job.id }); }}>{t('job.cancel')}</button>
    </div>
  );
}
