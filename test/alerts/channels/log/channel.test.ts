import { describe, expect, it } from 'vitest';
import { createLogChannel, logFields } from '../../../../src/alerts/channels/log/channel.js';
import { createLogger } from '../../../../src/lib/logger.js';
import { logSink } from '../../../support/log-sink.js';
import { degraded, down, NOTE_CHAT, up } from '../../../support/notifications.js';

describe('the log channel', () => {
  it('writes each notification as one flat JSON line: alerts and DEGRADED at warn, the rest at info', async () => {
    const sink = logSink();
    const channel = createLogChannel(createLogger('info', sink.stream));
    const done: string[] = [];
    await channel.deliver(`log:${NOTE_CHAT}`, [down('api'), up('api'), degraded('web')], async (ids) => void done.push(...ids), new AbortController().signal);
    expect(done).toEqual(['i-api:down', 'i-api:end', 'web:deg']);
    expect(sink.lines.map((l) => [l.event, l.level, l.name])).toEqual([
      ['alert', 40, 'api'],
      ['resolved', 30, 'api'],
      ['degraded', 40, 'web'],
    ]);
    expect(sink.lines[0]).toMatchObject({ target: `${NOTE_CHAT}/api`, chat: NOTE_CHAT, reason: 'HTTP 503, expected 200-299', failedChecks: 2, incident: 'i-api' });
    expect(sink.lines[1]).toMatchObject({ downtimeMs: 22_000, downtime: '22s' });
  });

  it('has no HTML in any field', () => {
    const n = down('api', 'i', { reason: '<b>HTTP 503</b>' });
    expect(logFields(n).reason).toBe('<b>HTTP 503</b>');
    expect(JSON.stringify(logFields(n))).not.toContain('&lt;');
  });
});
