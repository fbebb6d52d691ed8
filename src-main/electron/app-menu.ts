// Plain data (type-only electron import) so the menu can be checked by a unit test.
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openDataFolder(): void;
  openLogFolder(): void;
  about(): void;
}

/**
 * The application menu. An installed app has no developer tools and no reload (a reload would
 * drop the operator's work on the page); a development build keeps both.
 */
export function appMenuTemplate(packaged: boolean, actions: MenuActions): MenuItemConstructorOptions[] {
  return [
    { label: 'File', submenu: [{ label: 'Open data folder', click: actions.openDataFolder }, { label: 'Open log folder', click: actions.openLogFolder }, { type: 'separator' }, { role: 'quit' }] },
    { label: 'Edit', submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    {
      label: 'View',
      submenu: [
        ...(packaged ? [] : [{ role: 'reload' } as const, { role: 'toggleDevTools' } as const, { type: 'separator' } as const]),
        { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' },
      ],
    },
    { label: 'Help', submenu: [{ label: 'About Argus', click: actions.about }] },
  ];
}
