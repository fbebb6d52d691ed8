import type { AddToDatasetInput, ReviewOpinion } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { splitFromDigest } from '../datasets/importer.ts';
import type { Store } from '../store/store.ts';

/** Records an operator's word on a result, audited. */
export function reviewInspection(store: Store, input: { inspectionId: number; opinion: ReviewOpinion; correctLabel?: string; note?: string }, actor: string): void {
  const record = store.history.get(input.inspectionId);
  store.transaction(() => {
    store.reviews.setOpinion(record.id, input.opinion, input.correctLabel ?? null, input.note ?? '', actor);
    store.history.audit(actor, `inspection.${input.opinion === 'confirmed' ? 'confirm' : 'dispute'}`, `inspection:${record.id}`, { verdict: record.verdict, correctLabel: input.correctLabel ?? null });
  });
}

/**
 * Adds a result's stored image to a dataset of the same project as the model that inspected it,
 * labelled as the QA engineer says (good, defect, or defect of one class), and resolves its
 * review. The next training run's snapshot includes it. Audited.
 */
export function addToDataset(store: Store, input: AddToDatasetInput, actor: string): void {
  const record = store.history.get(input.inspectionId);
  const dataset = store.datasets.get(input.datasetId);
  const image = record.imageSha256 ? store.datasets.imageBySha256(record.imageSha256) : undefined;
  if (!image) throw new ArgusError('bad_input', `Inspection ${record.id} kept no image to add`, { key: 'noInspectionImage', params: { id: record.id } });
  const project = store.projects.get(dataset.projectId);
  if (input.classIndex !== undefined && !project.classes.some((c) => c.index === input.classIndex)) {
    throw new ArgusError('invalid_argument', `class ${input.classIndex} is not a class of project "${project.name}"`, { key: 'classNotInProject', params: { index: input.classIndex, project: project.name } });
  }
  const file = `line/${record.createdAt.slice(0, 10)}/${record.id}-${record.sourcePath.split(/[\\/]/).pop()}`;
  store.transaction(() => {
    store.datasets.addImage(dataset.id, image.id, file, input.split ?? splitFromDigest(record.imageSha256!), input.label);
    store.datasets.setLabel(dataset.id, image.id, input.label);
    for (const a of store.annotations.forImage(project.id, image.id)) if (a.shape === 'good' || a.shape === 'class') store.annotations.delete(a.id);
    if (input.label === 'good') store.annotations.insert({ projectId: project.id, imageId: image.id, classId: null, shape: 'good', geometry: null, author: actor });
    else if (input.classIndex !== undefined) store.annotations.insert({ projectId: project.id, imageId: image.id, classId: store.projects.classId(project.id, input.classIndex), shape: 'class', geometry: null, author: actor });
    store.reviews.resolve(record.id, 'added', dataset.id, actor);
    store.history.audit(actor, 'inspection.add-to-dataset', `inspection:${record.id}`, { datasetId: dataset.id, label: input.label, classIndex: input.classIndex ?? null });
  });
}

export function dismissReview(store: Store, inspectionId: number, actor: string): void {
  const record = store.history.get(inspectionId);
  store.transaction(() => {
    store.reviews.resolve(record.id, 'dismissed', null, actor);
    store.history.audit(actor, 'inspection.dismiss-review', `inspection:${record.id}`, {});
  });
}
