import type { Notification } from '../../../domain/notification.js';
import { invalid, valid } from '../../../domain/result.js';
import { findRefusal, guardedLookup } from '../../../probes/address-guard.js';
import { deliverEach, type Channel, type DeliveryVerdict } from '../../channel.js';
import { mailOf } from '../email/render.js';
import { parseHookUrl } from '../http.js';
import { mask, type ChannelContext, type ChannelSpec } from '../spec.js';

/** An SNS destination: the topic, its region, and optionally an endpoint and keys (else the default AWS chain). */
export interface SnsSettings {
  topicArn: string;
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

const ARN_RE = /^arn:aws[a-z-]*:sns:([a-z0-9-]{2,32}):(\d{12}):([A-Za-z0-9_-]{1,256}(\.fifo)?)$/;
const KEY_RE = /^[A-Za-z0-9]{4,128}$/;
const SECRET_RE = /^[\x21-\x7e]{1,2048}$/;

/** SNS errors in verdicts: a topic or login that is gone pauses the destination. */
export function classifySns(err: unknown): DeliveryVerdict {
  if (findRefusal(err)) return { action: 'drop', gone: true, why: findRefusal(err)!.message };
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const code = e?.name ?? e?.Code ?? '';
  if (['NotFoundException', 'NotFound', 'AuthorizationErrorException', 'AuthorizationError', 'InvalidClientTokenId', 'UnrecognizedClientException', 'SignatureDoesNotMatch', 'InvalidSecurityException', 'KMSAccessDeniedException', 'EndpointDisabledException'].includes(code)) {
    return { action: 'drop', gone: true, why: `SNS answered ${code}` };
  }
  if (code === 'InvalidParameterException' || code === 'InvalidParameterValueException' || code === 'InvalidParameter') return { action: 'drop', why: `SNS answered ${code}` };
  return { action: 'retry' };
}

/** An SNS subject: at most 100 printable ASCII characters, no line breaks. */
const subjectOf = (text: string): string => text.replace(/[^\x20-\x7e]/g, '').slice(0, 100).trim() || 'Lookout';

/**
 * The `sns` kind: each notification is one Publish to an SNS topic (subject and a plain text body,
 * message attributes `event` and `target`), with @aws-sdk/client-sns loaded lazily, one attempt (the
 * outbox retries), bounded timeouts, and the endpoint guarded against metadata addresses. Keys as for
 * ec2 targets: given with key= and secret= (masked, the message deleted), or the default AWS chain.
 */
export const snsChannel: ChannelSpec<SnsSettings> = {
  kind: 'sns',
  usage: '/notify add sns NAME arn:aws:sns:REGION:ACCOUNT:TOPIC [endpoint=https://…] [key=… secret=… [token=…]]',
  options: [
    { key: 'endpoint', help: 'an AWS-compatible SNS endpoint (default: AWS for the region of the ARN)' },
    { key: 'key', help: 'access key id (with secret=)' },
    { key: 'secret', help: 'secret access key', secret: true },
    { key: 'token', help: 'session token', secret: true },
  ],
  env: [],
  defaultEvents: ['down', 'up'],
  parse(address, options) {
    const errors: string[] = [];
    const arn = ARN_RE.exec(address);
    if (!arn) errors.push('give the topic as its ARN, like arn:aws:sns:eu-west-1:123456789012:alerts');
    const endpointText = options.get('endpoint');
    const endpoint = endpointText !== undefined ? parseHookUrl(endpointText, 'SNS endpoint') : undefined;
    if (endpoint && !endpoint.ok) errors.push(endpoint.error);
    const key = options.get('key');
    const secret = options.get('secret');
    const token = options.get('token');
    if ((key === undefined) !== (secret === undefined)) errors.push('give key= and secret= together (or neither, for the default AWS credentials)');
    if (key !== undefined && !KEY_RE.test(key)) errors.push('key must be an access key id (letters and digits)');
    if (secret !== undefined && !SECRET_RE.test(secret)) errors.push('secret must be printable characters without spaces');
    if (token !== undefined && key === undefined) errors.push('token= goes with key= and secret=');
    if (errors.length > 0 || !arn) return invalid(...errors);
    return valid({
      topicArn: address,
      region: arn[1]!,
      ...(endpoint?.ok ? { endpoint: endpoint.value.href.replace(/\/$/, '') } : {}),
      ...(key !== undefined && secret !== undefined ? { credentials: { accessKeyId: key, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) } } : {}),
    });
  },
  describe: (s) => `${s.topicArn}${s.endpoint ? ` at ${new URL(s.endpoint).host}` : ''}${s.credentials ? `, key ${mask(s.credentials.accessKeyId, 4)}, secret ••••` : ''}`,
  secrets: (s) => (s.credentials ? [s.credentials.secretAccessKey, ...(s.credentials.sessionToken ? [s.credentials.sessionToken] : [])] : []),
  format: (s) => ({
    address: s.topicArn,
    options: Object.fromEntries([
      ...(s.endpoint ? [['endpoint', s.endpoint]] : []),
      ...(s.credentials ? [['key', s.credentials.accessKeyId], ['secret', s.credentials.secretAccessKey]] : []),
      ...(s.credentials?.sessionToken ? [['token', s.credentials.sessionToken]] : []),
    ]),
  }),
  create: (ctx) => createSnsChannel(ctx),
};

type SnsSdk = typeof import('@aws-sdk/client-sns');

function createSnsChannel(ctx: ChannelContext): Channel {
  let sdk: Promise<SnsSdk> | undefined;
  const clients = new Map<string, InstanceType<SnsSdk['SNSClient']>>();
  const clientFor = async (s: SnsSettings): Promise<InstanceType<SnsSdk['SNSClient']>> => {
    const key = JSON.stringify([s.region, s.endpoint, s.credentials?.accessKeyId, s.credentials?.secretAccessKey, s.credentials?.sessionToken]);
    const known = clients.get(key);
    if (known) return known;
    const { SNSClient } = await (sdk ??= import('@aws-sdk/client-sns'));
    const agent = { keepAlive: true, ...(ctx.allowMetadata ? {} : { lookup: guardedLookup({}) }) };
    const client = new SNSClient({
      region: s.region,
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      ...(s.credentials ? { credentials: s.credentials } : {}),
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 10_000, throwOnRequestTimeout: true, httpAgent: agent, httpsAgent: agent },
    });
    clients.set(key, client);
    return client;
  };

  const publish = async (s: SnsSettings, n: Notification): Promise<void> => {
    const { PublishCommand } = await (sdk ??= import('@aws-sdk/client-sns'));
    const parts = mailOf([{ kind: 'one', notification: n }]);
    const target = n.targetId ?? '';
    await (await clientFor(s)).send(
      new PublishCommand({
        TopicArn: s.topicArn,
        Subject: subjectOf(parts.subject),
        Message: parts.text,
        MessageAttributes: {
          event: { DataType: 'String', StringValue: n.kind },
          ...(target ? { target: { DataType: 'String', StringValue: target } } : {}),
        },
        ...(s.topicArn.endsWith('.fifo') ? { MessageGroupId: target || 'lookout', MessageDeduplicationId: n.id.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 128) } : {}),
      }),
    );
  };

  return {
    kind: 'sns',
    classify: classifySns,
    async deliver(destination, batch, done, signal) {
      const settings = ctx.settings(destination) as SnsSettings | undefined;
      await deliverEach(batch, done, signal, (n) => (settings ? publish(settings, n) : Promise.resolve()));
    },
  };
}
