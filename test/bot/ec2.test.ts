import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf as text } from '../support/fake-telegram.js';
import { motoTestsEnabled, startMoto, type MotoServer } from '../support/moto.js';

const runMoto = motoTestsEnabled(process.env);
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

let moto: MotoServer | undefined;
let rig: AppRig | undefined;

beforeAll(async () => {
  // The default credential chain must never ask the metadata address (no traffic off loopback).
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  if (runMoto) moto = await startMoto();
}, 30_000);
afterAll(async () => {
  await moto?.stop();
  vi.unstubAllEnvs();
});
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe.skipIf(!runMoto)('ec2 targets from the chat, against moto', () => {
  it('adds an ec2 target with credentials, checks it UP, deletes the message with the secret, and never shows it', async () => {
    rig = await startAppRig();
    const reply = await rig.say(`/add ec2 ${moto!.endpoint} region=us-east-1 name=cloud key=${KEY} secret=${SECRET}`, 'Added');
    expect(text(reply)).toContain('key AKIA••••MPLE, secret ••••');
    await rig.telegram.waitFor('deleteMessage');
    await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('deleted your message'));
    const first = await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('First check'), 15_000);
    expect(text(first), text(first)).toContain('First check: 🟢');
    const status = await rig.say('/status cloud', 'is UP');
    expect(text(status)).toContain('ec2 DescribeAvailabilityZones in us-east-1');
    const everything = [...rig.telegram.calls.map((c) => JSON.stringify(c.payload)), ...rig.logs].join('\n');
    expect(everything).not.toContain(SECRET);
    expect(rig.app.engine.state(`${GROUP}/cloud`)?.state).toBe('UP');
  }, 30_000);
});
