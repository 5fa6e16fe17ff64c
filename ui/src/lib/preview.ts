/**
 * The parts of an hls.js error this app reads. Declared here rather than
 * imported so that describing an error never pulls hls.js into the main
 * bundle (it is loaded on demand by the player).
 */
export interface HlsErrorLike {
  type: string;
  details: string;
  fatal: boolean;
  response?: { code?: number; text?: string };
  error?: { message?: string };
}

const TIMEOUTS = new Set([
  'manifestLoadTimeOut',
  'levelLoadTimeOut',
  'fragLoadTimeOut',
  'audioTrackLoadTimeOut',
  'keyLoadTimeOut',
]);

const UNREADABLE = new Set(['manifestParsingError', 'levelParsingError', 'fragParsingError', 'levelEmptyError']);

const UNSUPPORTED = new Set([
  'manifestIncompatibleCodecsError',
  'bufferIncompatibleCodecsError',
  'bufferAddCodecError',
]);

/**
 * A sentence for someone watching the preview, from a fatal hls.js error.
 * The HTTP status is what matters most: signed URLs are refused with 403
 * once they expire or when the signature does not match.
 */
export function describeHlsError(data: HlsErrorLike): string {
  const code = data.response?.code;
  if (code === 401 || code === 403) return 'The link was refused (expired or not signed).';
  if (code === 404) return 'The video was not found on the server (HTTP 404).';
  if (typeof code === 'number' && code >= 400) return `The video server answered with HTTP ${code}.`;
  // hls.js files a playlist it could not parse under network errors too.
  if (UNREADABLE.has(data.details)) return 'The video playlist could not be read.';
  if (UNSUPPORTED.has(data.details)) return 'This system cannot decode the format of this video.';
  if (TIMEOUTS.has(data.details)) return 'The video server did not answer in time.';
  // Refused connections and responses blocked by CORS arrive with status 0.
  if (data.type === 'networkError') return 'Could not reach the video server.';
  if (data.type === 'mediaError') return 'The video could not be decoded.';
  return `Playback failed (${data.details || data.type || 'unknown error'}).`;
}

export const HLS_MIME = 'application/vnd.apple.mpegurl';

export const NO_HLS_SUPPORT =
  'This system cannot play HLS video: it has neither Media Source Extensions nor built-in HLS playback.';

/** The parts of a video element `stalledAtEnd` reads. */
export interface PlayheadLike {
  currentTime: number;
  duration: number;
  ended: boolean;
  /** Where the buffered range around `currentTime` ends, or `currentTime` when nothing is buffered there. */
  bufferedEnd: number;
}

/** How close to the end counts as the end: MSE durations overshoot the media by a frame or two. */
const END_TOLERANCE_S = 0.3;

/**
 * True when playback is stuck at the very end of a clip without having ended:
 * the playlist's duration can exceed what was actually buffered by a few
 * frames, so with hls.js the element waits there for data that never comes,
 * `ended` never fires, and Play does nothing. Such a clip is treated as ended.
 */
export function stalledAtEnd(media: PlayheadLike): boolean {
  if (media.ended) return false;
  if (!Number.isFinite(media.duration) || !(media.duration > 0)) return false;
  const nearEnd = media.duration - media.currentTime <= END_TOLERANCE_S;
  const nothingAhead = media.bufferedEnd - media.currentTime < 0.05;
  return nearEnd && nothingAhead;
}

/** What the stall watch reads of the video element, every tick. */
export interface PlaybackLike {
  paused: boolean;
  ended: boolean;
  seeking: boolean;
  /** HTMLMediaElement.readyState: 3 (HAVE_FUTURE_DATA) and up can play. */
  readyState: number;
  currentTime: number;
  /** Where the buffered range around `currentTime` ends, or `currentTime` when nothing is buffered there. */
  bufferedEnd: number;
}

/** How long playback may sit still with data in hand before it is nudged. */
export const STALL_MS = 1500;

/** What the stall watch does on a tick. */
export type StallStep = { kind: 'fine' } | { kind: 'watching'; since: number } | { kind: 'nudge' } | { kind: 'recover' };

/**
 * WebKitGTK's media pipeline sometimes sits at HAVE_METADATA though the data
 * to play is buffered right at the playhead: on a loaded machine, the seek
 * hls.js makes over the short gap encoders leave before the first frame (B
 * frames) can stay pending for good, and the video says it plays while
 * nothing moves. A new small seek restarts it; if two do not, hls.js rebuilds
 * the pipeline (`recover`). Stalls with nothing buffered ahead are real waits
 * for the network, and are left alone.
 */
export function stallStep(media: PlaybackLike, since: number | null, nudges: number, now: number): StallStep {
  // A seek counts too: WebKitGTK can leave the one hls.js makes to skip the
  // few hundredths of a second before the first frame pending for good.
  const stuck = !media.paused && !media.ended && media.readyState < 3 && media.bufferedEnd - media.currentTime > 0.1;
  if (!stuck) return { kind: 'fine' };
  if (since === null || now - since < STALL_MS) return { kind: 'watching', since: since ?? now };
  return nudges < 2 ? { kind: 'nudge' } : { kind: 'recover' };
}
