import { discordChannel } from './discord/spec.js';
import { emailChannel } from './email/spec.js';
import { pagerDutyChannel } from './pagerduty/spec.js';
import { slackChannel } from './slack/spec.js';
import { snsChannel } from './sns/spec.js';
import { listed, type ChannelSpec } from './spec.js';
import { webhookChannel } from './webhook/spec.js';

// The channel kinds a chat can add with /notify (the chat itself and the log are always there).
// Adding a kind: its folder, one line here, and the docs.

/** Every channel kind, in the order /notify lists them. */
export const CHANNEL_SPECS: readonly ChannelSpec[] = [listed(slackChannel), listed(webhookChannel), listed(discordChannel), listed(pagerDutyChannel), listed(emailChannel), listed(snsChannel)];

/** The spec of a kind, if there is one. */
export const channelSpec = (kind: string): ChannelSpec | undefined => CHANNEL_SPECS.find((s) => s.kind === kind);
