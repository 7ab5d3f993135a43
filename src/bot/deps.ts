import type { RemoteTrace } from '../cluster/remote-trace.js';
import type { LocationView } from '../domain/locations.js';
import type { Boards } from '../alerts/channels/telegram/board.js';
import type { AlertPolicy } from '../alerts/policy.js';
import type { AlertRecords } from '../alerts/channels/telegram/alert-records.js';
import type { IncidentBook } from '../alerts/incidents.js';
import type { ChannelEnv, ChannelSpec } from '../alerts/channels/spec.js';
import type { Destination, Destinations } from '../alerts/destinations.js';
import type { Outbox } from '../alerts/outbox.js';
import type { SecretRegistry } from '../lib/logger.js';
import type { Catalog } from '../engine/catalog.js';
import type { Engine } from '../engine/engine.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { ChatSettingsRepository } from '../store/chats.js';
import type { History } from '../store/history.js';
import type { WindowRegistry } from '../store/windows.js';
import type { SourceResolver } from '../diagnostics/source.js';
import type { Tracer } from '../diagnostics/tracer.js';
import type { HealthReport } from '../health/report.js';
import type { Access } from './middleware/access.js';
import type { UpdateRecords } from './update-ledger.js';
import type { StatusPages } from '../statuspage/pages.js';

/** What the command handlers work with (passed in, never imported). */
export interface BotDeps {
  catalog: Catalog;
  engine: Engine;
  policy: AlertPolicy;
  incidents: IncidentBook;
  /** The Telegram channel's alert messages (what an Ack button names). */
  alerts: AlertRecords;
  windows: WindowRegistry;
  history: History;
  boards: Boards;
  chats: ChatSettingsRepository;
  access: Access;
  /** Where the highest update handled is recorded, for the next leader (a store namespace). */
  updates: UpdateRecords;
  tracer: Tracer;
  source: SourceResolver;
  clock: Clock;
  logger?: Logger;
  /** `ALLOW_METADATA_TARGETS`. */
  allowMetadata: boolean;
  /** Where jobs reach Lookout's HTTP server (`PUBLIC_URL`): a heartbeat's /add reply gives its URL under it; undefined when the server is off. */
  publicUrl?: string | undefined;
  /** `MAX_TARGETS_PER_CHAT`: /add and /import refuse to go past it. */
  maxTargetsPerChat: number;
  /** Lookout's own health, for /health. */
  health(): Promise<HealthReport>;
  /** The chat's other destinations (Slack, e-mail, PagerDuty, ...), and the outbox that delivers to them. */
  destinations: Destinations;
  outbox: Pick<Outbox, 'outcomes' | 'discard' | 'resume'>;
  /** The channel kinds /notify offers, the settings they read, and where their secrets are kept out of logs. */
  channels: { specs: readonly ChannelSpec[]; env: ChannelEnv; secrets: SecretRegistry };
  /** Sends a test notification to a destination and says, in words, what became of it. */
  testDestination(destination: Destination, by: string): Promise<string>;
  /** Several locations: what each place sees of a target checked per location (for /status); none otherwise. */
  places?(targetId: string): Promise<readonly LocationView[]>;
  /** Several locations: the places that check a target per location now (its history is kept per place); none otherwise. */
  placeNames?(targetId: string): readonly string[];
  /** Several places: a trace taken from `place` (its answer, or why not, in words). */
  traceFrom?(place: string, host: string, port: number | undefined): Promise<RemoteTrace | string>;
  /** Sends an unexpected handler error to the error tracker (SENTRY_DSN). */
  reportError?: (err: unknown, context: Record<string, unknown>) => void;
  /** The chats' public status pages (`/statuspage`). */
  statusPages: StatusPages;
  /** Downloads a file a user sent (by Telegram's `file_path`); the token stays inside. */
  download(filePath: string, maxBytes: number): Promise<Buffer>;
}
