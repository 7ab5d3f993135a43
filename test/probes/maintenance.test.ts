import { describe, expect, it } from 'vitest';
import { detectMaintenance, retryAfterSeconds } from '../../src/probes/maintenance.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

describe('detectMaintenance', () => {
  it.each([
    ['503 with Retry-After seconds', { status: 503, retryAfter: '600' }, { reason: 'HTTP 503 with Retry-After 600s', retryAfterS: 600 }],
    ['503 with Retry-After date', { status: 503, retryAfter: 'Mon, 23 Nov 2026 12:10:00 GMT' }, { reason: 'HTTP 503 with Retry-After 600s', retryAfterS: 600 }],
    ['503 with a maintenance page', { status: 503, body: '<h1>Down for maintenance</h1>' }, { reason: 'HTTP 503 with a maintenance page' }],
    ['502 with scheduled downtime', { status: 502, body: 'Scheduled downtime until 14:00' }, { reason: 'HTTP 502 with a maintenance page' }],
    ['a plain 503', { status: 503, body: 'Service Unavailable' }, undefined],
    ['a plain 500', { status: 500, body: 'Internal Server Error' }, undefined],
    ['503 with garbage Retry-After and no page', { status: 503, retryAfter: 'soon' }, undefined],
    ['a word inside another word', { status: 503, body: 'maintenanceless' }, undefined],
  ])('%s', (_name, answer, expected) => {
    expect(detectMaintenance(answer, NOW)).toEqual(expected);
  });

  it('honours the target pattern, case-insensitively', () => {
    expect(detectMaintenance({ status: 500, body: 'Wartungsarbeiten bis 14 Uhr' }, NOW, 'WARTUNG')).toEqual({ reason: 'HTTP 500 with a maintenance page' });
    expect(detectMaintenance({ status: 500, body: 'Fehler' }, NOW, 'wartung')).toBeUndefined();
  });

  it('parses Retry-After', () => {
    expect(retryAfterSeconds(' 120 ', NOW)).toBe(120);
    expect(retryAfterSeconds('Mon, 23 Nov 2026 11:00:00 GMT', NOW)).toBe(0);
    expect(retryAfterSeconds('later', NOW)).toBeUndefined();
  });
});
