import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { invalid, valid } from '../../../domain/result.js';
import { planBatch } from '../../batch.js';
import { DeliveryError, type Channel, type DeliveryVerdict } from '../../channel.js';
import type { ChannelContext, ChannelSpec } from '../spec.js';
import { mailOf } from './render.js';

/** An e-mail destination: who gets the mail. */
export interface EmailSettings {
  to: string[];
}

const ADDRESS_RE = /^[^\s@<>(),;:"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/;
const MAX_RECIPIENTS = 20;
/** How long an alert's Message-ID is kept for its resolution to answer (then Keyv lets it expire). */
const THREAD_KEEP_MS = 30 * 86_400_000;

/** SMTP's answers in verdicts. */
export function classifySmtp(err: unknown): DeliveryVerdict {
  const e = err as { code?: string; responseCode?: number; message?: string };
  const code = typeof e?.responseCode === 'number' ? e.responseCode : undefined;
  if (e?.code === 'EAUTH' || code === 535 || code === 534) return { action: 'drop', gone: true, why: `the SMTP server refused the login${code ? ` (${code})` : ''}: check SMTP_URL` };
  if (e?.code === 'EENVELOPE' && code !== undefined && code >= 500) return { action: 'drop', gone: true, why: `the SMTP server refused every recipient (${code})` };
  if (code !== undefined && code >= 500) return { action: 'drop', why: `the SMTP server refused the message (${code})` };
  return { action: 'retry' };
}

/** The SMTP settings: `SMTP_URL` carries the server and the login. */
const smtpUrlProblem = (value: string): string | undefined => {
  try {
    const url = new URL(value);
    return url.protocol === 'smtp:' || url.protocol === 'smtps:' ? undefined : 'must be an smtp:// or smtps:// URL like smtp://user:pass@mail.example.com:587';
  } catch {
    return 'must be an smtp:// or smtps:// URL like smtp://user:pass@mail.example.com:587';
  }
};

/**
 * The `email` kind: SMTP through nodemailer. A group of notifications is one e-mail (a storm names every
 * target in one mail, not hundreds), multipart text and HTML; each alert's mail has a Message-ID that its
 * resolution answers (In-Reply-To, References), so mail clients keep them in one thread.
 */
export const emailChannel: ChannelSpec<EmailSettings> = {
  kind: 'email',
  usage: '/notify add email NAME ops@example.com[,oncall@example.com]',
  options: [],
  env: [
    { name: 'SMTP_URL', description: 'the SMTP server for e-mail destinations, like smtp://user:pass@mail.example.com:587 (the password is kept out of logs)', secret: true, check: smtpUrlProblem },
    { name: 'SMTP_FROM', description: 'the From address of alert e-mails', shownDefault: '`lookout@<host name>`', check: (v) => (ADDRESS_RE.test(v) || /<[^>]+@[^>]+>$/.test(v) ? undefined : 'must be an e-mail address like lookout@example.com') },
  ],
  defaultEvents: ['down', 'up'],
  parse(address, _options, env) {
    if (!env.SMTP_URL) return invalid('e-mail destinations need SMTP_URL (smtp://user:pass@host:587) in the settings');
    const to = address.split(',').map((a) => a.trim()).filter((a) => a !== '');
    const bad = to.find((a) => !ADDRESS_RE.test(a));
    if (to.length === 0) return invalid('give at least one e-mail address');
    if (bad) return invalid(`"${bad.slice(0, 40)}${bad.length > 40 ? '…' : ''}" is not an e-mail address`);
    if (to.length > MAX_RECIPIENTS) return invalid(`at most ${MAX_RECIPIENTS} addresses per destination, got ${to.length}`);
    return valid({ to: [...new Set(to.map((a) => a.toLowerCase()))] });
  },
  describe: (s) => s.to.join(', '),
  secrets: () => [],
  format: (s) => ({ address: s.to.join(','), options: {} }),
  create: (ctx) => createEmailChannel(ctx),
};

/** What nodemailer's transport looks like to us (loaded lazily: nothing is imported until a mail goes). */
interface Transport {
  sendMail(mail: Record<string, unknown>): Promise<unknown>;
  close(): void;
}

function createEmailChannel(ctx: ChannelContext): Channel {
  const from = ctx.env.SMTP_FROM ?? `lookout@${hostname()}`;
  const domain = /@([^>]+)>?$/.exec(from)?.[1] ?? 'lookout';
  const threads = ctx.store.namespace<string>('email-messages');
  let transport: Promise<Transport> | undefined;
  const transporter = (): Promise<Transport> =>
    (transport ??= import('nodemailer').then((m) => {
      const url = new URL(ctx.env.SMTP_URL ?? 'smtp://localhost');
      const secure = url.protocol === 'smtps:';
      return m.createTransport({
        // Connections are kept and reused: an alert does not wait for a new SMTP handshake each time.
        pool: true,
        maxConnections: 2,
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port ? Number(url.port) : secure ? 465 : 587,
        secure,
        ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
        // Bounded, so a stuck server costs a retry, not a stuck queue.
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 15_000,
      }) as unknown as Transport;
    }));

  return {
    kind: 'email',
    grouping: { windowMs: 5_000, maxIntervalMs: 60_000, immediate: (n) => n.kind === 'test' },
    classify: classifySmtp,
    async close() {
      const open = transport;
      transport = undefined;
      if (open) (await open).close();
    },
    async deliver(destination, batch, done, signal) {
      const settings = ctx.settings(destination) as EmailSettings | undefined;
      // A short hash keeps Message-IDs apart per destination without showing its name.
      const tag = createHash('sha256').update(destination).digest('hex').slice(0, 8);
      for (const segment of planBatch(batch)) {
        if (signal.aborted) return;
        const ids = segment.flatMap((p) => (p.kind === 'blip' ? p.ids : [p.notification.id]));
        if (!settings) {
          await done(ids);
          continue;
        }
        // The thread: the mail of the first alert this group answers (a resolution, an acknowledgement).
        let inReplyTo: string | undefined;
        for (const p of segment) {
          if (p.kind !== 'one') continue;
          const n = p.notification;
          const incident = n.kind === 'up' || n.kind === 'closed' || n.kind === 'reminder' ? n.incident.id : n.kind === 'acknowledged' ? n.incidentIds[0] : undefined;
          if (incident !== undefined) inReplyTo ??= await threads.get(`${destination}|${incident}`);
        }
        const parts = mailOf(segment);
        const messageId = `<${ids[0]!.replace(/[^A-Za-z0-9.-]/g, '.')}.${tag}@${domain}>`;
        try {
          await (await transporter()).sendMail({
            from,
            to: settings.to,
            subject: parts.subject,
            text: parts.text,
            html: parts.html,
            messageId,
            ...(inReplyTo ? { inReplyTo, references: [inReplyTo] } : {}),
            headers: { 'X-Lookout-Event': ids.length === 1 ? (segment[0]?.kind === 'one' ? segment[0].notification.kind : 'blip') : 'group' },
          });
        } catch (err) {
          throw new DeliveryError(ids, err);
        }
        for (const p of segment) if (p.kind === 'one' && p.notification.kind === 'down') await threads.set(`${destination}|${p.notification.incident.id}`, messageId, THREAD_KEEP_MS);
        await done(ids);
      }
    },
  };
}
