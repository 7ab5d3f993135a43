import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTargetRepository } from '../../src/store/targets.js';
import { GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf } from '../support/fake-telegram.js';

let rig: AppRig | undefined;
let dir = '';
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('file-managed targets in the chat', () => {
  it('are listed and checked like others, but commands that would change them say the file manages them', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lookout-tf-bot-'));
    const file = join(dir, 'targets.yaml');
    // The port is filled in after the target server starts: write a placeholder first.
    await writeFile(file, 'version: 1\n');
    rig = await startAppRig({ TARGETS_FILE: file });
    await writeFile(
      file,
      [
        'version: 1',
        'targets:',
        `  - { name: api, url: "${rig.server.url}/health", every: 1m }`,
        'windows:',
        '  - { target: api, cron: "0 2 * * SUN", duration: 1h, tz: UTC }',
      ].join('\n'),
    );
    const reloaded = await rig.app.reload();
    expect(reloaded.ok).toBe(true);
    const before = JSON.stringify(await createTargetRepository(rig.app.store).list());

    expect(textOf(await rig.say('/list', 'api'))).toContain('<b>api</b>');
    expect(textOf(await rig.say('/status api', 'api'))).toContain('🔒 Declared in TARGETS_FILE');
    for (const command of ['/edit api every=30s', '/interval api 30s', '/timeout api 5s', '/pause api', '/resume api', '/remove api']) {
      const reply = await rig.say(command, 'TARGETS_FILE');
      expect(textOf(reply), command).toContain('<b>api</b> is managed by TARGETS_FILE');
    }
    expect(textOf(await rig.say('/maintenance cancel f1', 'TARGETS_FILE'))).toContain('<b>window f1</b> is managed by TARGETS_FILE');
    expect(textOf(await rig.say('/add http://127.0.0.1:1/ name=api', 'already exists'))).toContain('already exists');
    // What does not change the target still works.
    expect(textOf(await rig.say('/check api', 'api'))).toContain('HTTP 200');
    expect(textOf(await rig.say('/mute api 1h', 'Muted'))).toContain('Muted <b>api</b>');
    expect(textOf(await rig.say('/unmute api', 'Unmuted'))).toContain('Unmuted');

    expect(JSON.stringify(await createTargetRepository(rig.app.store).list())).toBe(before);
    expect(rig.app.windows.list(GROUP).map((w) => w.id)).toEqual(['f1']);
  });
});
