// Poster URLs for the list's rows: asked once per job and kept until shortly
// before they expire, so scrolling back and forth (the list draws rows anew)
// does not ask the backend again.
import { posterUrl } from './ipc';

/** How long a row is drawn before it asks for its poster (scrolling past asks nothing). */
export const POSTER_DELAY_MS = 250;

/** Signed poster URLs work an hour; one is reused for 50 minutes. */
export const POSTER_REUSE_MS = 50 * 60 * 1000;

interface Known {
  /** Null: the job has no poster (or it could not be signed); not asked again until `until`. */
  url: string | null;
  until: number;
}

const known = new Map<string, Known>();
const asking = new Map<string, Promise<string | null>>();

/** The poster URL of ready job `jobId`, or null when it has none. */
export function posterFor(jobId: string, now: () => number = Date.now): Promise<string | null> {
  const hit = known.get(jobId);
  if (hit && hit.until > now()) return Promise.resolve(hit.url);
  const pending = asking.get(jobId);
  if (pending) return pending;
  const ask = posterUrl(jobId)
    .then((url) => url as string | null)
    .catch(() => null)
    .then((url) => {
      known.set(jobId, { url, until: now() + POSTER_REUSE_MS });
      asking.delete(jobId);
      return url;
    });
  asking.set(jobId, ask);
  return ask;
}

/** Forgets every poster URL (tests; a connection switch makes new edges). */
export function forgetPosters(): void {
  known.clear();
  asking.clear();
}
