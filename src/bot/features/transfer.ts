import { moduleOf } from '../../kinds/index.js';
import { Composer, InputFile } from 'grammy';
import type { Document } from 'grammy/types';
import { clipText, quoteValue } from '../../domain/errors.js';
import { parseDocumentText } from '../../config/targets-file.js';
import { applyDestinations, destinationEntry, documentDestination, type Destination } from '../../alerts/destinations.js';
import { documentOf } from '../../targets/document-export.js';
import type { Target } from '../../kinds/index.js';
import { applyImport } from '../../engine/file-sync.js';
import { escapeHtml } from '../../lib/html.js';
import { commandArgs, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { errorText } from '../texts.js';

const html = { parse_mode: 'HTML' } as const;

/** The largest document /import reads. */
export const IMPORT_MAX_BYTES = 1_048_576;

const nameOf = (id: string): string => id.slice(id.indexOf('/') + 1);
const names = (ids: readonly string[]): string => (ids.length === 0 ? 'none' : ids.map((id) => `<b>${escapeHtml(nameOf(id))}</b>`).join(', '));

/** Whether a caption is the /import command (`/import` or `/import@ThisBot`). */
export function isImportCaption(caption: string | undefined, botUsername: string): boolean {
  const m = /^\/import(?:@(\w+))?(?:\s|$)/i.exec(caption ?? '');
  return m !== null && (m[1] === undefined || m[1].toLowerCase() === botUsername.toLowerCase());
}

/** Targets and windows as a file: /export (everyone; secrets only for admins in a private chat) and /import (admins). */
export function createTransfer(deps: BotDeps): Composer<LookoutContext> {
  const transfer = new Composer<LookoutContext>();

  transfer.command('export', async (ctx) => {
    const words = commandArgs(ctx).split(/\s+/).filter(Boolean);
    if (words.length > 1 || (words.length === 1 && words[0]!.toLowerCase() !== 'secrets')) {
      return void (await ctx.reply(errorText([`unexpected ${quoteValue(words.find((w) => w.toLowerCase() !== 'secrets') ?? words[1]!)}`], 'export'), html));
    }
    const secrets = words.length === 1;
    if (secrets && ctx.chat.type !== 'private') {
      return void (await ctx.reply(errorText(['secrets are only exported in a private chat with me, to an administrator: send /export secrets there (it exports that chat\'s targets)']), html));
    }
    if (secrets && !(await deps.access.isAdmin(ctx))) return void (await ctx.reply('⛔ Only administrators can export secrets.', html));
    const all = await deps.catalog.list(ctx.chat.id);
    // What TARGETS_FILE declares lives in that file; an export would only duplicate it.
    const targets = all.filter((t) => t.managed !== 'file');
    const kept = new Set(targets.map((t) => t.id));
    const windows = deps.windows.list(ctx.chat.id).filter((w) => w.managed !== 'file' && (w.targetId === undefined || kept.has(w.targetId)));
    const doc = documentOf(ctx.chat.id, targets, windows, secrets);
    const mine = deps.destinations.list(ctx.chat.id).filter((d) => d.managed !== 'file');
    const channels = mine.flatMap((d) => {
      const spec = deps.channels.specs.find((k) => k.kind === d.kind);
      return spec ? [destinationEntry(d, spec, secrets)] : [];
    });
    if (channels.length > 0) doc.channels = channels as NonNullable<typeof doc.channels>;
    const day = new Date(deps.clock.now()).toISOString().slice(0, 10);
    const skipped = all.length - targets.length;
    const caption = [
      `📤 ${targets.length} target${targets.length === 1 ? '' : 's'} and ${windows.length} window${windows.length === 1 ? '' : 's'}; ${secrets ? '🔐 with secrets: keep this file safe.' : 'secrets masked (••••).'}`,
      skipped > 0 ? `${skipped} declared in TARGETS_FILE left out.` : '',
      'Send it back with /import as the caption to restore or copy them.',
    ].filter(Boolean);
    await ctx.replyWithDocument(new InputFile(Buffer.from(`${JSON.stringify(doc, null, 2)}\n`), `lookout-${ctx.chat.id}-${day}.json`), { caption: caption.join('\n') });
    deps.logger?.info({ event: 'exported', chat: ctx.chat.id, targets: targets.length, secrets, by: ctx.from?.id }, 'targets exported');
  });

  const importFrom = async (ctx: LookoutContext & { chat: NonNullable<LookoutContext['chat']>; msg: NonNullable<LookoutContext['msg']> }): Promise<void> => {
    const document: Document | undefined = ctx.msg.document ?? ctx.msg.reply_to_message?.document;
    if (!document) {
      return void (await ctx.reply(errorText(['send the file from /export (JSON or YAML) with /import as its caption, or reply /import to it'], 'import'), html));
    }
    const fileName = document.file_name ?? 'document.json';
    // A file name is the sender's text too: replies show it clipped.
    const label = clipText(fileName, 60);
    if (!/\.(json|ya?ml)$/i.test(fileName)) return void (await ctx.reply(errorText([`${quoteValue(fileName)} is not a .json, .yaml or .yml file`], 'import'), html));
    if ((document.file_size ?? 0) > IMPORT_MAX_BYTES) return void (await ctx.reply(errorText([`the file is larger than 1 MiB (${document.file_size} bytes)`], 'import'), html));
    const file = await ctx.api.getFile(document.file_id);
    if (!file.file_path) return void (await ctx.reply(errorText(['Telegram did not give me the file; send it again']), html));
    const text = (await deps.download(file.file_path, IMPORT_MAX_BYTES)).toString('utf8');

    const now = deps.clock.now();
    const stored = new Map<string, Target>((await deps.catalog.list(ctx.chat.id)).map((t) => [t.id, t]));
    const threadId = ctx.msg.is_topic_message ? ctx.msg.message_thread_id : undefined;
    const settings = await deps.chats.get(ctx.chat.id);
    const parsed = parseDocumentText(text, fileName, {
      now,
      allowMetadata: deps.allowMetadata,
      forceChatId: ctx.chat.id,
      ...(threadId !== undefined ? { forceThreadId: threadId } : {}),
      tz: () => settings.tz,
      existing: (id) => stored.get(id),
      windowId: () => deps.windows.nextId(now),
      maxTargetsPerChat: deps.maxTargetsPerChat,
      parseChannel: (chatId, input, known) =>
        documentDestination(deps.channels.specs, deps.channels.env, now, { stored: (chat, name) => deps.destinations.byName(chat, name) })(chatId, input, new Set([...known, ...[...stored.values()].map((t) => t.name)])),
    }, label);
    const errors = parsed.ok ? parsed.value.targets.filter((t) => stored.get(t.id)?.managed === 'file').map((t) => `${label}: "${t.name}" is managed by TARGETS_FILE; change it there`) : parsed.errors;
    if (parsed.ok) {
      const adding = parsed.value.targets.filter((t) => !stored.has(t.id)).length;
      if (stored.size + adding > deps.maxTargetsPerChat) {
        errors.push(`${label} adds ${adding} targets to the ${stored.size} of this chat; a chat may have at most ${deps.maxTargetsPerChat} (MAX_TARGETS_PER_CHAT)`);
      }
    }
    if (!parsed.ok || errors.length > 0) return void (await ctx.reply(`${errorText(errors)}\nNothing was imported.`, html));
    const byUser = ctx.from ? { createdBy: ctx.from.id } : {};
    const channels = parsed.value.channels as Destination[];
    for (const d of channels) deps.channels.secrets.add(...(deps.channels.specs.find((k) => k.kind === d.kind)?.secrets(d.settings) ?? []));
    const report = await applyImport(
      {
        targets: parsed.value.targets,
        windows: parsed.value.windows.map((w) => ({ ...w, ...byUser })),
        channels,
        ...(parsed.value.given ? { given: parsed.value.given } : {}),
      },
      {
        catalog: deps.catalog,
        allTargets: async () => [...stored.values()],
        windows: deps.windows,
        windowsChanged: () => deps.policy.windowsChanged(),
        applyChannels: (list, mode) => applyDestinations(deps.destinations, list as Destination[], mode),
      },
    );
    deps.logger?.info({ event: 'imported', chat: ctx.chat.id, added: report.added.length, changed: report.changed.length, by: ctx.from?.id }, 'targets imported');
    const kept = report.windowsKept ?? 0;
    await ctx.reply(
      [
        `📥 Imported <code>${escapeHtml(label)}</code>:`,
        `added ${names(report.added)}`,
        `changed ${names(report.changed)}`,
        `left alone ${names(report.unchanged)}`,
        `windows: ${report.windows} added${kept > 0 ? `, ${kept} already there` : ''}`,
        ...(report.channels ? [`destinations: ${report.channels} added or changed`] : []),
        // A target whose kind made a secret for it (a new heartbeat's URL) shows it here, once, as /add does.
        ...parsed.value.targets
          .filter((t) => report.added.includes(t.id))
          .flatMap((t) => (moduleOf(t).addedLines?.(t, { publicUrl: deps.publicUrl }) ?? []).map((l) => `${escapeHtml(t.name)}: ${escapeHtml(l)}`)),
      ].join('\n'),
      html,
    );
  };

  const admin = deps.access.requireAdmin('import targets');
  // `/import` as the caption of the file (grammY's command() reads message text only), or as a reply to it.
  transfer.on('message:document').filter((ctx) => isImportCaption(ctx.msg.caption, ctx.me.username), admin, (ctx) => importFrom(ctx));
  transfer.command('import', admin, (ctx) => importFrom(ctx));

  return transfer;
}
