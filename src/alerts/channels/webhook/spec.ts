import { invalid, valid } from '../../../domain/result.js';
import { deliverEach, type Channel } from '../../channel.js';
import { classifyHttp, createChannelAgent, maskUrl, parseHookUrl, post } from '../http.js';
import { mask, type ChannelContext, type ChannelSpec } from '../spec.js';
import { webhookBody } from './body.js';
import { signBody } from './signature.js';

/** A webhook destination: where to post, and the secret that signs each body. */
export interface WebhookSettings {
  url: string;
  secret?: string;
}

const SECRET_RE = /^[\x21-\x7e]{8,256}$/;

/**
 * The `webhook` kind: every notification is its own POST of a versioned JSON body (`lookout.alert.v1`),
 * signed with HMAC-SHA256 over `timestamp.body` when the destination has a secret. No grouping:
 * receivers see each event, with its id in `X-Lookout-Delivery` to drop a repeat.
 */
export const webhookChannel: ChannelSpec<WebhookSettings> = {
  kind: 'webhook',
  usage: '/notify add webhook NAME https://hooks.example.com/lookout [secret=…]',
  options: [{ key: 'secret', help: 'signs every body (X-Lookout-Signature); at least 8 characters', secret: true }],
  env: [],
  defaultEvents: ['down', 'up'],
  parse(address, options) {
    const url = parseHookUrl(address, 'webhook');
    const errors: string[] = [];
    if (!url.ok) errors.push(url.error);
    const secret = options.get('secret');
    if (secret !== undefined && !SECRET_RE.test(secret)) errors.push('secret must be 8-256 printable characters without spaces');
    if (errors.length > 0 || !url.ok) return invalid(...errors);
    return valid({ url: url.value.href, ...(secret ? { secret } : {}) });
  },
  describe: (s) => `${maskUrl(new URL(s.url))}${s.secret ? `, signed (${mask(s.secret, 0)})` : ', unsigned'}`,
  secrets: (s) => [s.url, ...(s.secret ? [s.secret] : [])],
  format: (s) => ({ address: s.url, options: Object.fromEntries(s.secret ? [['secret', s.secret]] : []) }),
  create: (ctx) => createWebhookChannel(ctx),
};

/** The webhook channel's delivery: one POST per notification. */
function createWebhookChannel(ctx: ChannelContext): Channel {
  const agent = createChannelAgent(ctx.allowMetadata);
  return {
    kind: 'webhook',
    classify: classifyHttp,
    async deliver(destination, batch, done, signal) {
      const settings = ctx.settings(destination) as WebhookSettings | undefined;
      await deliverEach(batch, done, signal, async (n) => {
        // A destination removed meanwhile: nothing to deliver to.
        if (!settings) return;
        const body = JSON.stringify(webhookBody(n));
        const timestamp = String(Math.floor(ctx.clock.now() / 1_000));
        await post(agent, settings.url, body, {
          'content-type': 'application/json',
          'user-agent': 'Lookout',
          'x-lookout-event': n.kind,
          'x-lookout-delivery': n.id,
          'x-lookout-timestamp': timestamp,
          ...(settings.secret ? { 'x-lookout-signature': signBody(settings.secret, timestamp, body) } : {}),
        });
      });
    },
  };
}
