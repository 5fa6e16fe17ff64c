// Modal dialogs keep the keyboard inside: Tab and Shift+Tab wrap around
// their controls instead of reaching the page behind.

const FOCUSABLE =
  'button:not(:disabled), input:not(:disabled), select:not(:disabled), textarea:not(:disabled), a[href], [tabindex]:not([tabindex="-1"])';

/** Handles Tab for a modal `dialog`; true if it moved focus. */
export function keepTabInside(event: KeyboardEvent, dialog: HTMLElement | undefined): boolean {
  if (event.key !== 'Tab' || !dialog) return false;
  const focusable = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)];
  if (focusable.length === 0) return false;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  const inside = dialog.contains(document.activeElement);
  if (event.shiftKey && (document.activeElement === first || !inside)) {
    event.preventDefault();
    last.focus();
    return true;
  }
  if (!event.shiftKey && (document.activeElement === last || !inside)) {
    event.preventDefault();
    first.focus();
    return true;
  }
  return false;
}
