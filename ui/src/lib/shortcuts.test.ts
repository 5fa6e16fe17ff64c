import { describe, expect, it } from 'vitest';
import { keyLabel, shortcutOf } from './shortcuts';

const press = (key: string, mods: Partial<Record<'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey', boolean>> = {}) => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});

describe('shortcutOf', () => {
  it('maps Ctrl+O, Ctrl+Shift+O and Ctrl+F on Linux and Windows', () => {
    expect(shortcutOf(press('o', { ctrlKey: true }), false)).toBe('add-files');
    expect(shortcutOf(press('O', { ctrlKey: true, shiftKey: true }), false)).toBe('add-folder');
    expect(shortcutOf(press('f', { ctrlKey: true }), false)).toBe('search');
    expect(shortcutOf(press(',', { ctrlKey: true }), false)).toBe('settings');
  });

  it('uses ⌘ on macOS, where Ctrl+O is no shortcut', () => {
    expect(shortcutOf(press('o', { metaKey: true }), true)).toBe('add-files');
    expect(shortcutOf(press('o', { ctrlKey: true }), true)).toBeNull();
    expect(shortcutOf(press('o', { metaKey: true }), false)).toBeNull();
    expect(shortcutOf(press(',', { metaKey: true }), true)).toBe('settings');
  });

  it('leaves other keys and combinations alone', () => {
    expect(shortcutOf(press('o'), false)).toBeNull();
    expect(shortcutOf(press('o', { ctrlKey: true, altKey: true }), false)).toBeNull();
    expect(shortcutOf(press('F', { ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(shortcutOf(press('c', { ctrlKey: true }), false)).toBeNull();
    expect(shortcutOf(press(',', { ctrlKey: true, shiftKey: true }), false)).toBeNull();
  });

  it('labels keys the platform way', () => {
    expect(keyLabel('O', false)).toBe('Ctrl+O');
    expect(keyLabel('O', false, true)).toBe('Ctrl+Shift+O');
    expect(keyLabel('O', true, true)).toBe('⇧⌘O');
  });
});
