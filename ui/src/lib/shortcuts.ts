// The window's keyboard shortcuts: Ctrl+O adds files, Ctrl+Shift+O a card
// or folder, Ctrl+F goes to the search, Ctrl+, opens the settings (⌘ instead
// of Ctrl on macOS).

export type Shortcut = 'add-files' | 'add-folder' | 'search' | 'settings';

/** What a key press asks for, if it is one of the window's shortcuts. */
export function shortcutOf(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey'>,
  mac: boolean,
): Shortcut | null {
  const command = mac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  if (!command || event.altKey) return null;
  switch (event.key.toLowerCase()) {
    case 'o':
      return event.shiftKey ? 'add-folder' : 'add-files';
    case 'f':
      return event.shiftKey ? null : 'search';
    case ',':
      return event.shiftKey ? null : 'settings';
    default:
      return null;
  }
}

/** Whether this is macOS, where ⌘ takes Ctrl's place. */
export function isMac(): boolean {
  return typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
}

/** "Ctrl+O" or "⌘O", for labels and tooltips. */
export function keyLabel(key: string, mac: boolean, shift = false): string {
  return mac ? `${shift ? '⇧' : ''}⌘${key}` : `Ctrl+${shift ? 'Shift+' : ''}${key}`;
}
