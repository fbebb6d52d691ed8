import type { CreateProjectInput, DefectClass, Project } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { type Db, nowIso } from './database.ts';

const CLASS_COLOURS = ['#e6194b', '#f58231', '#ffe119', '#3cb44b', '#42d4f4', '#4363d8', '#911eb4', '#f032e6', '#a9a9a9', '#9a6324'];
export const defaultColour = (index: number): string => CLASS_COLOURS[(index - 1) % CLASS_COLOURS.length];

interface ProjectRow { id: number; name: string; description: string; created_at: string }
interface ClassRow { id: number; class_index: number; name: string; color: string }

export class ProjectRepository {
  constructor(private readonly db: Db) {}

  list(): Project[] {
    const rows = this.db.prepare('SELECT * FROM projects ORDER BY name').all() as ProjectRow[];
    return rows.map((row) => this.toProject(row));
  }

  get(id: number): Project {
    const row = this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id) as ProjectRow | undefined;
    if (!row) throw new ArgusError('not_found', `No project with id ${id}`, { key: 'noProject', params: { id } });
    return this.toProject(row);
  }

  findByName(name: string): Project | undefined {
    const row = this.db.prepare('SELECT * FROM projects WHERE name = ?').get(name) as ProjectRow | undefined;
    return row && this.toProject(row);
  }

  create(input: CreateProjectInput): Project {
    if (this.findByName(input.name)) throw new ArgusError('conflict', `A project named "${input.name}" already exists`, { key: 'projectExists', params: { name: input.name } });
    return this.db.transaction(() => {
      const { lastInsertRowid } = this.db
        .prepare('INSERT INTO projects (name, description, created_at) VALUES (?, ?, ?)')
        .run(input.name, input.description ?? '', nowIso());
      const id = Number(lastInsertRowid);
      (input.classes ?? []).forEach((c, i) => this.addClass(id, i + 1, c.name, c.color));
      return this.get(id);
    })();
  }

  addClass(projectId: number, index: number, name: string, color = defaultColour(index)): DefectClass {
    this.db
      .prepare('INSERT INTO defect_classes (project_id, class_index, name, color) VALUES (?, ?, ?, ?)')
      .run(projectId, index, name, color);
    return { index, name, color };
  }

  classId(projectId: number, index: number): number {
    const row = this.db
      .prepare('SELECT id FROM defect_classes WHERE project_id = ? AND class_index = ?')
      .get(projectId, index) as { id: number } | undefined;
    if (!row) throw new ArgusError('not_found', `Project ${projectId} has no class ${index}`);
    return row.id;
  }

  /**
   * Maps a source's class indices onto the project's classes by name, adding the classes the
   * project lacks (at the source's index when free). Returns source index → project index.
   */
  mergeClasses(projectId: number, sourceClasses: Map<number, string>): Map<number, number> {
    const project = this.get(projectId);
    const byName = new Map(project.classes.map((c) => [c.name, c.index]));
    const used = new Set(project.classes.map((c) => c.index));
    const mapping = new Map<number, number>();
    for (const [sourceIndex, name] of [...sourceClasses].sort((a, b) => a[0] - b[0])) {
      let index = byName.get(name);
      if (index === undefined) {
        index = used.has(sourceIndex) ? firstFree(used) : sourceIndex;
        this.addClass(projectId, index, name);
        used.add(index);
        byName.set(name, index);
      }
      mapping.set(sourceIndex, index);
    }
    return mapping;
  }

  private toProject(row: ProjectRow): Project {
    const classes = this.db
      .prepare('SELECT id, class_index, name, color FROM defect_classes WHERE project_id = ? ORDER BY class_index')
      .all(row.id) as ClassRow[];
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      createdAt: row.created_at,
      classes: classes.map((c) => ({ index: c.class_index, name: c.name, color: c.color })),
    };
  }
}

function firstFree(used: Set<number>): number {
  for (let i = 1; i <= 255; i++) if (!used.has(i)) return i;
  throw new ArgusError('bad_input', 'A project can hold at most 255 defect classes', { key: 'classLimit' });
}
