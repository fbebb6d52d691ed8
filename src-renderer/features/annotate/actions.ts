import type { MessageKey } from '../../i18n/en.ts';

export type Tool = 'select' | 'box' | 'polygon' | 'brush' | 'eraser';

/** One thing the labeller can do: the toolbar shows it, and its shortcut triggers it. */
export interface AnnotateAction {
  id: string;
  label: MessageKey;
  /** The shortcut as the toolbar shows it. */
  shortcut?: string;
  /** Keys that trigger it (KeyboardEvent.key, lower case; "ctrl+" for Ctrl or Cmd, "shift+" for Shift). */
  keys?: string[];
  /** Where it appears: as a tool (pressed while active), a toolbar command, or only as a shortcut. */
  place: 'tool' | 'command' | 'key';
  pressed?: boolean;
  disabled?: boolean;
  run(): void;
}

/** What the actions act on: the page's handlers and state. */
export interface ActionHandlers {
  tool: Tool;
  setTool(tool: Tool): void;
  undo(): void;
  redo(): void;
  canUndo: boolean;
  canRedo: boolean;
  markGood(): void;
  suggest(): void;
  suggesting: boolean;
  closePolygon(): void;
  cancelDraft(): void;
  deleteSelected(): void;
  brushSmaller(): void;
  brushLarger(): void;
  step(delta: number): void;
  /** The project's classes: keys 1–9 choose one. */
  classIndices: number[];
  setClass(index: number): void;
}

export const TOOLS: { tool: Tool; key: string }[] = [
  { tool: 'select', key: 'V' }, { tool: 'box', key: 'B' }, { tool: 'polygon', key: 'P' }, { tool: 'brush', key: 'R' }, { tool: 'eraser', key: 'E' },
];

/** The one table of Annotate's actions: the toolbar and the keyboard both read it. */
export function annotateActions(h: ActionHandlers): AnnotateAction[] {
  return [
    ...TOOLS.map(({ tool, key }): AnnotateAction => ({
      id: `tool.${tool}`, label: `annotate.tool.${tool}` as MessageKey, shortcut: key, keys: [key.toLowerCase()], place: 'tool', pressed: h.tool === tool, run: () => h.setTool(tool),
    })),
    { id: 'undo', label: 'annotate.undo', shortcut: 'Ctrl+Z', keys: ['ctrl+z'], place: 'command', disabled: !h.canUndo, run: h.undo },
    { id: 'redo', label: 'annotate.redo', shortcut: 'Ctrl+Y', keys: ['ctrl+y', 'ctrl+shift+z'], place: 'command', disabled: !h.canRedo, run: h.redo },
    { id: 'good', label: 'annotate.good', shortcut: 'G', keys: ['g'], place: 'command', run: h.markGood },
    { id: 'suggest', label: h.suggesting ? 'annotate.suggesting' : 'annotate.suggest', shortcut: 'S', keys: ['s'], place: 'command', disabled: h.suggesting, run: h.suggest },
    { id: 'polygon.close', label: 'annotate.tool.polygon', keys: ['enter'], place: 'key', run: h.closePolygon },
    { id: 'draft.cancel', label: 'annotate.tool.select', keys: ['escape'], place: 'key', run: h.cancelDraft },
    { id: 'delete', label: 'annotate.delete', keys: ['delete', 'backspace'], place: 'key', run: h.deleteSelected },
    { id: 'brush.smaller', label: 'annotate.brushSize', keys: ['['], place: 'key', run: h.brushSmaller },
    { id: 'brush.larger', label: 'annotate.brushSize', keys: [']'], place: 'key', run: h.brushLarger },
    { id: 'image.next', label: 'annotate.queue', keys: ['arrowright'], place: 'key', run: () => h.step(1) },
    { id: 'image.previous', label: 'annotate.queue', keys: ['arrowleft'], place: 'key', run: () => h.step(-1) },
    ...h.classIndices.filter((i) => i <= 9).map((i): AnnotateAction => ({ id: `class.${i}`, label: 'annotate.class', keys: [String(i)], place: 'key', run: () => h.setClass(i) })),
  ];
}

/** The key event as the table names keys: "ctrl+shift+z", "b", "arrowright". Alt combinations name nothing. */
export function keyName(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>): string | null {
  if (e.altKey) return null;
  const key = e.key.toLowerCase();
  if (e.ctrlKey || e.metaKey) return `ctrl+${e.shiftKey ? 'shift+' : ''}${key}`;
  return key;
}

/** The enabled action a key event triggers, if any. */
export function actionForKey(actions: AnnotateAction[], e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>): AnnotateAction | undefined {
  const name = keyName(e);
  return name === null ? undefined : actions.find((a) => !a.disabled && a.keys?.includes(name));
}
