import { describe, expect, it } from 'vitest';
import { describeHlsError, STALL_MS, stallStep, stalledAtEnd, type HlsErrorLike } from './preview';

const network = (details: string, code?: number): HlsErrorLike => ({
  type: 'networkError',
  details,
  fatal: true,
  response: code === undefined ? undefined : { code, text: '' },
});

describe('describeHlsError', () => {
  it('reads a refused signed URL as expired or unsigned', () => {
    expect(describeHlsError(network('manifestLoadError', 403))).toBe('The link was refused (expired or not signed).');
    expect(describeHlsError(network('fragLoadError', 403))).toBe('The link was refused (expired or not signed).');
    expect(describeHlsError(network('levelLoadError', 401))).toBe('The link was refused (expired or not signed).');
  });

  it('names other HTTP failures by status', () => {
    expect(describeHlsError(network('manifestLoadError', 404))).toBe('The video was not found on the server (HTTP 404).');
    expect(describeHlsError(network('fragLoadError', 503))).toBe('The video server answered with HTTP 503.');
  });

  it('tells a timeout from an unreachable server', () => {
    expect(describeHlsError(network('manifestLoadTimeOut'))).toBe('The video server did not answer in time.');
    // Refused connections and CORS rejections both arrive as status 0.
    expect(describeHlsError(network('manifestLoadError', 0))).toBe('Could not reach the video server.');
  });

  it('explains playlists and media it cannot use', () => {
    // hls.js reports an unparsable playlist as a network error, with status 200.
    expect(describeHlsError({ ...network('manifestParsingError', 200) })).toBe('The video playlist could not be read.');
    expect(describeHlsError({ type: 'mediaError', details: 'levelParsingError', fatal: true })).toBe(
      'The video playlist could not be read.',
    );
    expect(describeHlsError({ type: 'mediaError', details: 'manifestIncompatibleCodecsError', fatal: true })).toBe(
      'This system cannot decode the format of this video.',
    );
    expect(describeHlsError({ type: 'mediaError', details: 'bufferAppendError', fatal: true })).toBe(
      'The video could not be decoded.',
    );
    expect(describeHlsError({ type: 'otherError', details: 'internalException', fatal: true })).toBe(
      'Playback failed (internalException).',
    );
  });
});

describe('stalledAtEnd', () => {
  const at = (currentTime: number, bufferedEnd = currentTime) => ({ currentTime, duration: 1.04, ended: false, bufferedEnd });

  it('is true when playback waits within a few frames of the end with nothing buffered ahead', () => {
    expect(stalledAtEnd(at(1.0))).toBe(true);
    expect(stalledAtEnd(at(0.8))).toBe(true);
  });

  it('is false mid-clip, with data ahead, once ended, or without a duration', () => {
    expect(stalledAtEnd(at(0.5))).toBe(false);
    expect(stalledAtEnd(at(0.8, 1.04))).toBe(false);
    expect(stalledAtEnd({ ...at(1.04), ended: true })).toBe(false);
    expect(stalledAtEnd({ ...at(1.0), duration: Number.NaN })).toBe(false);
    expect(stalledAtEnd({ ...at(0), duration: Number.POSITIVE_INFINITY })).toBe(false);
  });
});

describe('stallStep', () => {
  const stuck = { paused: false, ended: false, seeking: false, readyState: 1, currentTime: 0.18, bufferedEnd: 1.1 };

  it('leaves playback alone while it can play, is paused, or is waiting for data', () => {
    expect(stallStep({ ...stuck, readyState: 3 }, 0, 0, 10_000).kind).toBe('fine');
    expect(stallStep({ ...stuck, paused: true }, 0, 0, 10_000).kind).toBe('fine');
    expect(stallStep({ ...stuck, bufferedEnd: 0.2 }, 0, 0, 10_000).kind).toBe('fine');
  });

  it('counts a seek that stays pending with data in hand as a stall', () => {
    expect(stallStep({ ...stuck, seeking: true }, 1000, 0, 1000 + STALL_MS).kind).toBe('nudge');
  });

  it('watches a stall with data in hand, then nudges twice, then recovers', () => {
    expect(stallStep(stuck, null, 0, 1000)).toEqual({ kind: 'watching', since: 1000 });
    expect(stallStep(stuck, 1000, 0, 1000 + STALL_MS - 1)).toEqual({ kind: 'watching', since: 1000 });
    expect(stallStep(stuck, 1000, 0, 1000 + STALL_MS).kind).toBe('nudge');
    expect(stallStep(stuck, 1000, 1, 1000 + STALL_MS).kind).toBe('nudge');
    expect(stallStep(stuck, 1000, 2, 1000 + STALL_MS).kind).toBe('recover');
  });
});
