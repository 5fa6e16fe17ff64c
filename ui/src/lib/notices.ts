import type { IntakeReport, ProblemView, Rejection } from './ipc';

/** One fact behind a notice's or a row's "Details": "Path", "/media/card/…". */
export interface DetailLine {
  label: string;
  value: string;
}

export interface Notice {
  /** Client-side key so individual notices can be dismissed. */
  key: number;
  kind: 'rejection' | 'error' | 'note';
  /** What the notice is about, e.g. a file name: names its buttons for screen readers. */
  subject: string;
  /**
   * Bold lead-in shown before the message ("Could not pause A001.mov"), for
   * messages that do not say what they are about. A problem's message is a
   * whole sentence that already names its file, so rejections have none.
   */
  title?: string;
  message: string;
  /** Behind "Details"; absent when there is nothing more to say. */
  details?: DetailLine[];
  /** What "Copy details" puts on the clipboard; set together with `details`. */
  report?: string;
  /** The dropped path of a rejection: with `code`, tells duplicates apart. */
  path?: string;
  code?: string;
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

const NO_DETAIL = 'No further details were recorded.';

/** The lines of "Details" for a problem, after any lines of its own (a path). */
export function problemDetails(problem: ProblemView, before: DetailLine[] = []): DetailLine[] {
  return [
    ...before,
    { label: 'Details', value: problem.detail?.trim() || NO_DETAIL },
    { label: 'Code', value: problem.code },
  ];
}

export function problemReport(heading: string, problem: ProblemView): string {
  return [
    heading,
    problem.message,
    `Code: ${problem.code}`,
    `Details: ${problem.detail?.trim() || 'none recorded'}`,
  ].join('\n');
}

/** A rejection as text for a bug report or a message to a colleague. */
export function rejectionReport(r: Rejection): string {
  return [
    r.problem.message,
    `Path: ${r.path}`,
    `Code: ${r.problem.code}`,
    `Details: ${r.problem.detail?.trim() || 'none recorded'}`,
  ].join('\n');
}

/**
 * Appends one notice per rejection, showing the problem's own sentence. A
 * rejection of the same path for the same reason as one still on screen is
 * skipped, so re-dropping the same folder doesn't stack duplicates.
 */
export function addRejections(notices: readonly Notice[], rejected: readonly Rejection[]): Notice[] {
  const next = [...notices];
  for (const r of rejected) {
    const duplicate = next.some((n) => n.kind === 'rejection' && n.path === r.path && n.code === r.problem.code);
    if (duplicate) continue;
    next.push({
      key: nextKey++,
      kind: 'rejection',
      subject: r.fileName || displayName(r.path),
      message: r.problem.message,
      details: problemDetails(r.problem, [{ label: 'Path', value: r.path }]),
      report: rejectionReport(r),
      path: r.path,
      code: r.problem.code,
    });
  }
  return next;
}

/** Files of one drop listed behind "Details" before "and N more". */
const LISTED = 20;

/**
 * What a drop refused: one file's own notice, or for several one notice that
 * sums them up by reason ("3 items were skipped: 2 not video, 1 unreadable.")
 * with every file and why behind "Details", never a notice per file.
 */
export function addIntakeRejections(notices: readonly Notice[], report: IntakeReport): Notice[] {
  const rejected = report.rejected;
  if (rejected.length <= 1) return addRejections(notices, rejected);
  const total = Math.max(rejected.length, report.rejectedCounts.reduce((n, c) => n + c.count, 0));
  const reasons = report.rejectedCounts.map((c) => `${c.count} ${c.label}`).join(', ');
  const details: DetailLine[] = rejected
    .slice(0, LISTED)
    .map((r) => ({ label: r.fileName || displayName(r.path), value: r.problem.message }));
  if (rejected.length > LISTED) details.push({ label: 'And', value: `${rejected.length - LISTED} more` });
  return [
    ...notices,
    {
      key: nextKey++,
      kind: 'rejection',
      subject: `${total} items`,
      message: `${total} items were skipped${reasons ? `: ${reasons}` : ''}. Nothing else of this drop was affected.`,
      details,
      report: rejected.map(rejectionReport).join('\n\n'),
    },
  ];
}

/**
 * A command's rejection as a notice. The backend rejects with a plain string
 * or, where it has one, a problem: then its detail goes behind "Details".
 */
export function addError(notices: readonly Notice[], title: string, err: unknown): Notice[] {
  const problem = asProblem(err);
  const notice: Notice = { key: nextKey++, kind: 'error', subject: title, title, message: errorText(err) };
  if (problem) {
    notice.details = problemDetails(problem);
    notice.report = problemReport(title, problem);
    notice.code = problem.code;
  }
  return [...notices, notice];
}

/**
 * A problem with no command or file behind it (a start that failed): its
 * sentence says what to do; `subject` only names the notice's buttons.
 */
export function addProblem(notices: readonly Notice[], subject: string, problem: ProblemView): Notice[] {
  return [
    ...notices,
    {
      key: nextKey++,
      kind: 'error',
      subject,
      message: problem.message,
      details: problemDetails(problem),
      report: problemReport(subject, problem),
      code: problem.code,
    },
  ];
}

/** Something the backend says people should know; not an error. Its detail goes behind "Details". */
export function addNote(notices: readonly Notice[], note: ProblemView): Notice[] {
  if (notices.some((n) => n.kind === 'note' && n.code === note.code)) return [...notices];
  return [
    ...notices,
    {
      key: nextKey++,
      kind: 'note',
      subject: 'Note',
      title: 'Note',
      message: note.message,
      details: problemDetails(note),
      report: problemReport('Note', note),
      code: note.code,
    },
  ];
}

export function dismiss(notices: readonly Notice[], key: number): Notice[] {
  return notices.filter((n) => n.key !== key);
}

/** A ProblemView, if `err` is one (a command may reject with one). */
export function asProblem(err: unknown): ProblemView | null {
  if (!err || typeof err !== 'object') return null;
  const p = err as Partial<ProblemView>;
  if (typeof p.code !== 'string' || typeof p.message !== 'string') return null;
  return {
    code: p.code,
    message: p.message,
    params: p.params && typeof p.params === 'object' ? p.params : {},
    remedy: p.remedy === 'retry' || p.remedy === 'add-again' || p.remedy === 'none' ? p.remedy : 'none',
    detail: typeof p.detail === 'string' ? p.detail : null,
  };
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
