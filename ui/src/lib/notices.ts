import type { Rejection } from './ipc';

export interface Notice {
  /** Client-side key so individual notices can be dismissed. */
  key: number;
  kind: 'rejection' | 'error';
  /** What the notice is about, e.g. a file name. */
  subject: string;
  message: string;
  /** Full path for rejections, shown on hover. */
  detail?: string;
}

let nextKey = 1;

/**
 * Last path component, keeping a trailing slash so folders read as folders
 * ("holiday/"). Handles Windows separators since paths come from the OS.
 */
export function displayName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  if (!trimmed) return path; // a bare root such as "/"
  const base = trimmed.split(/[\\/]/).pop() || trimmed;
  return trimmed.length < path.length ? `${base}/` : base;
}

/**
 * Appends one notice per rejection. A rejection identical to one still on
 * screen is skipped, so re-dropping the same folder doesn't stack duplicates.
 */
export function addRejections(notices: readonly Notice[], rejected: readonly Rejection[]): Notice[] {
  const next = [...notices];
  for (const r of rejected) {
    const duplicate = next.some(
      (n) => n.kind === 'rejection' && n.detail === r.path && n.message === r.reason,
    );
    if (duplicate) continue;
    next.push({
      key: nextKey++,
      kind: 'rejection',
      subject: displayName(r.path),
      message: r.reason,
      detail: r.path,
    });
  }
  return next;
}

export function addError(notices: readonly Notice[], subject: string, err: unknown): Notice[] {
  return [...notices, { key: nextKey++, kind: 'error', subject, message: errorText(err) }];
}

export function dismiss(notices: readonly Notice[], key: number): Notice[] {
  return notices.filter((n) => n.key !== key);
}

/** Tauri commands reject with whatever Rust serialised, often a bare string. */
export function errorText(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err && typeof err.message === 'string') {
    return err.message;
  }
  return 'Unexpected error';
}
