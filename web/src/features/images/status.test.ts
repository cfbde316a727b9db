import { describe, expect, it } from 'vitest';
import { elapsedSeconds, failureReason, formatElapsed, imageCounts, isTerminal, phaseOf } from './status';
import { generation } from './testData';

describe('phaseOf / isTerminal', () => {
  it('maps every status to what the page says', () => {
    expect(phaseOf('pending')).toBe('queued');
    expect(phaseOf('running')).toBe('generating');
    expect(phaseOf('succeeded')).toBe('done');
    expect(phaseOf('failed')).toBe('failed');
    expect(phaseOf('canceled')).toBe('canceled');
    expect(phaseOf('something-new')).toBe('failed');
  });
  it('knows which statuses end the stream', () => {
    expect(['pending', 'running'].map(isTerminal)).toEqual([false, false]);
    expect(['succeeded', 'failed', 'canceled'].map(isTerminal)).toEqual([true, true, true]);
  });
});

describe('failureReason', () => {
  it('has its own words for known codes', () => {
    expect(failureReason({ code: 'content_filtered', message: 'DataInspectionFailed: x' })).toEqual({ key: 'images.reasons.content_filtered' });
    expect(failureReason({ code: 'timeout', message: '' })).toEqual({ key: 'images.reasons.timeout' });
    expect(failureReason({ code: 'DataInspectionFailed', message: '' })).toEqual({ key: 'images.reasons.content_filtered' });
    expect(failureReason({ code: 'InternalError.Timeout', message: '' })).toEqual({ key: 'images.reasons.timeout' });
    expect(failureReason({ code: 'some_output_filter', message: '' })).toEqual({ key: 'images.reasons.content_filtered' });
  });
  it("shows the service's message for anything else, and a generic sentence without one", () => {
    expect(failureReason({ code: 'InvalidParameter', message: 'size is not supported' })).toEqual({ text: 'size is not supported' });
    expect(failureReason({ code: 'Weird', message: '' })).toEqual({ key: 'images.reasons.unknown' });
    expect(failureReason(null)).toEqual({ key: 'images.reasons.unknown' });
  });
});

describe('elapsed time', () => {
  const now = Date.parse('2026-01-01T00:01:30Z');
  it('counts from the start while running, and the whole run when finished', () => {
    expect(elapsedSeconds(generation('g', { started_at: '2026-01-01T00:01:00Z' }), now)).toBe(30);
    expect(elapsedSeconds(generation('g'), now)).toBe(90); // queued: since created
    expect(
      elapsedSeconds(generation('g', { started_at: '2026-01-01T00:00:10Z', finished_at: '2026-01-01T00:00:14.9Z' }), now),
    ).toBe(4);
    expect(elapsedSeconds(generation('g', { created_at: '2026-01-01T00:02:00Z' }), now)).toBe(0); // clock skew
  });
  it('formats seconds and minutes', () => {
    expect(formatElapsed(0)).toBe('0 s');
    expect(formatElapsed(59)).toBe('59 s');
    expect(formatElapsed(75)).toBe('1:15');
    expect(formatElapsed(600)).toBe('10:00');
  });
});

describe('imageCounts', () => {
  it('counts good and failed images', () => {
    const img = (id: string, status: 'succeeded' | 'failed') => ({
      id, index: 0, status, url: null, download_url: null, width: 1, height: 1, seed: null,
      actual_prompt: null, content_type: null, bytes: null, error: null,
    });
    expect(imageCounts(generation('g', { images: [img('a', 'succeeded'), img('b', 'failed'), img('c', 'succeeded')] }))).toEqual({ ok: 2, failed: 1 });
  });
});
