import { quoteValue } from '../domain/errors.js';
import type { CommandArgs } from '../domain/options.js';
import { invalid, valid, type Parsed } from '../domain/result.js';
import type { KeyvStore } from '../store/keyv.js';

// Public status pages: one per chat, published with `/statuspage on` under /status/<slug>. Only the
// targets it names are shown (all of the chat's when it names none), and their addresses only with
// `show-urls`.

/** A published status page. */
export interface StatusPage {
  slug: string;
  chatId: number;
  title: string;
  /** The target names shown, in order; undefined = every target of the chat. */
  targets?: string[];
  /** Show each target's address (URL, host:port); hidden by default: a public page must not map the internals. */
  showUrls: boolean;
  createdAt: number;
  createdBy?: number;
}

/** What `/statuspage on` may say. */
export const PAGE_LIMITS = { titleMaxChars: 80, maxTargets: 50, slugRe: /^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$/ } as const;

/** `Example Corp Status!` → `example-corp-status` (3-40 characters of a-z, 0-9, -). */
export function slugOf(title: string): string {
  const slug = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  return slug.length >= 3 ? slug : `status-${slug || 'page'}`.slice(0, 40);
}

/** What `/statuspage on [title="…"] [targets=a,b] [show-urls] [slug=s]` asks for, validated (targets are checked against the chat by the caller). */
export function parsePageOptions(args: CommandArgs, fallbackTitle: string): Parsed<{ title: string; slug: string; targets?: string[]; showUrls: boolean }> {
  const errors: string[] = [];
  let title = fallbackTitle;
  let slug: string | undefined;
  let targets: string[] | undefined;
  let showUrls = false;
  for (const word of args.positional) {
    if (word.toLowerCase() === 'show-urls') showUrls = true;
    else errors.push(`unexpected ${quoteValue(word)}: options are title="…", targets=a,b, slug=name and show-urls`);
  }
  const seen = new Set<string>();
  for (const { key, value } of args.options) {
    if (seen.has(key)) {
      errors.push(`${key} is given twice`);
      continue;
    }
    seen.add(key);
    if (key === 'title') {
      const t = value.trim();
      if (t === '' || t.length > PAGE_LIMITS.titleMaxChars) errors.push(`title must be 1-${PAGE_LIMITS.titleMaxChars} characters, got ${t.length}`);
      else title = t;
    } else if (key === 'targets') {
      const names = [...new Set(value.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean))];
      if (names.length === 0) errors.push('targets must name at least one target, like targets=api,web');
      else if (names.length > PAGE_LIMITS.maxTargets) errors.push(`targets may name at most ${PAGE_LIMITS.maxTargets} targets, got ${names.length}`);
      else targets = names;
    } else if (key === 'slug') {
      const s = value.trim().toLowerCase();
      if (!PAGE_LIMITS.slugRe.test(s)) errors.push(`slug must be 3-40 characters of a-z, 0-9 and -, got ${quoteValue(value)}`);
      else slug = s;
    } else if (key === 'show-urls') {
      if (!['yes', 'true', 'on', 'no', 'false', 'off'].includes(value.toLowerCase())) errors.push(`show-urls takes no value (or yes/no), got ${quoteValue(value)}`);
      else showUrls = ['yes', 'true', 'on'].includes(value.toLowerCase());
    } else errors.push(`unknown option ${quoteValue(key)}; expected title, targets, slug or show-urls`);
  }
  if (errors.length > 0) return invalid(...errors);
  return valid({ title, slug: slug ?? slugOf(title), ...(targets ? { targets } : {}), showUrls });
}

/** The pages, by slug, over the `statuspages` namespace (with a short cache: a crowd reading one page reads the store once every few seconds). */
export interface StatusPages {
  get(slug: string): Promise<StatusPage | undefined>;
  ofChat(chatId: number): Promise<StatusPage | undefined>;
  put(page: StatusPage): Promise<void>;
  remove(slug: string): Promise<void>;
}

/** The repository; `now` and `cacheMs` bound how stale a page another instance changed may be. */
export function createStatusPages(store: KeyvStore, now: () => number, cacheMs = 5_000): StatusPages {
  const pages = store.namespace<StatusPage>('statuspages');
  const chats = store.namespace<string>('statuspage-chats');
  const cache = new Map<string, { page: StatusPage | undefined; at: number }>();
  return {
    async get(slug) {
      const hit = cache.get(slug);
      if (hit && now() - hit.at < cacheMs) return hit.page;
      const page = await pages.get(slug);
      cache.set(slug, { page, at: now() });
      if (cache.size > 1_000) cache.delete(cache.keys().next().value!);
      return page;
    },
    async ofChat(chatId) {
      const slug = await chats.get(String(chatId));
      return slug === undefined ? undefined : pages.get(slug);
    },
    async put(page) {
      const before = await chats.get(String(page.chatId));
      await pages.set(page.slug, page);
      await chats.set(String(page.chatId), page.slug);
      if (before !== undefined && before !== page.slug) {
        await pages.delete(before);
        cache.delete(before);
      }
      cache.set(page.slug, { page, at: now() });
    },
    async remove(slug) {
      const page = await pages.get(slug);
      await pages.delete(slug);
      if (page) await chats.delete(String(page.chatId));
      cache.set(slug, { page: undefined, at: now() });
    },
  };
}
