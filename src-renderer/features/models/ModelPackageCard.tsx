import { type FormEvent, useEffect, useState } from 'react';
import type { ExportedModelPackage, ModelVersionSummary } from '../../../src-main/contract/contract.ts';
import { api, client, stageFiles } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';

/**
 * Moving a version between stations: export it as one package file (downloaded by the page, and
 * kept in the data directory's exports/), and import a package as a candidate version.
 */
export function ModelPackageCard({ models, onImported }: { models: ModelVersionSummary[]; onImported: () => void }) {
  const { t } = useI18n();
  const [modelId, setModelId] = useState<number | null>(null);
  const [exported, setExported] = useState<ExportedModelPackage | null>(null);
  const [path, setPath] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [imported, setImported] = useState<ModelVersionSummary | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (modelId === null && models.length) setModelId(models[0].id);
  }, [models.length]);

  const run = async (action: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const exportPackage = (): Promise<void> => run(async () => {
    if (modelId === null) return;
    const written = await api.exportModelPackage({ modelId });
    setExported(written);
    const link = document.createElement('a');
    link.href = client.exportUrl(written.fileName);
    link.download = written.fileName;
    link.click();
  });
  const importPackage = (e: FormEvent): Promise<void> => {
    e.preventDefault();
    return run(async () => {
      const version = file
        ? await api.importModelPackage({ upload: (await stageFiles([file]))[0] })
        : await api.importModelPackage({ path: path.trim() });
      setImported(version);
      setPath('');
      setFile(null);
      onImported();
    });
  };
  const pick = async (): Promise<void> => {
    const [chosen] = (await client.pickPaths?.({ kind: 'file', accept: 'package', title: t('packages.import') })) ?? [];
    if (chosen) setPath(chosen);
  };

  return (
    <div className="card package-card" aria-label={t('packages.title')} role="region">
      <h2>{t('packages.title')}</h2>
      <p className="muted">{t('packages.hint')}</p>
      <div className="form-row">
        <label>{t('optimize.model')}
          <select value={modelId ?? ''} onChange={(e) => setModelId(Number(e.target.value))}>
            {models.map((m) => <option key={m.id} value={m.id}>#{m.id} {m.name}</option>)}
          </select>
        </label>
        <button type="button" className="primary" disabled={busy || modelId === null} onClick={() => void exportPackage()}>{t('packages.export')}</button>
      </div>
      {exported && (
        <p className="notice success" role="status" data-testid="package-exported">
          {t('packages.exported', { file: exported.fileName, mb: (exported.bytes / 2 ** 20).toFixed(1), path: exported.path })}
        </p>
      )}
      <form className="form-row" onSubmit={(e) => void importPackage(e)} aria-label={t('packages.import')}>
        <label>{t('packages.path')}
          <input value={path} onChange={(e) => {
            setPath(e.target.value);
            setFile(null);
          }} placeholder="/media/usb/argus-model-3.argus" disabled={busy} />
        </label>
        {client.pickPaths && <button type="button" disabled={busy} onClick={() => void pick()}>{t('packages.choose')}</button>}
        {client.stageUpload && (
          <label>{t('packages.upload')}
            <input type="file" accept=".argus" disabled={busy} onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setPath('');
            }} data-testid="package-file" />
          </label>
        )}
        <button type="submit" disabled={busy || (!path.trim() && !file)}>{t('packages.import')}</button>
      </form>
      {imported && (
        <p className="notice success" role="status" data-testid="package-imported">
          {t('packages.imported', { id: imported.id, name: imported.name, station: String((imported.config.importedFrom as { station?: string } | undefined)?.station ?? '–') })}
        </p>
      )}
      {error && <p className="notice error" role="alert">{error}</p>}
    </div>
  );
}
