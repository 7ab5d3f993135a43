import { quoteValue } from '../../domain/errors.js';
import { ACCESS_KEY_RE, CREDENTIAL_RE, LIMITS, maskAccessKeyId, parseEndpoint, REGION_RE, type TargetCommon } from '../../domain/target.js';
import { defineKind, errorOf, type Draft, type OptionSpec } from '../kind.js';
import { createEc2Probe } from './probe.js';

/**
 * An AWS-compatible EC2 API endpoint checked with DescribeAvailabilityZones. Without `accessKeyId` and
 * `secretAccessKey` the check signs with the SDK's default credential chain (env, profile, instance role).
 * The secret and the token are never shown: display them with {@link maskedCredentials}.
 */
export interface Ec2Target extends TargetCommon {
  kind: 'ec2';
  /** The API's http(s) URL, like `https://ec2.us-east-1.amazonaws.com/`. */
  endpoint: string;
  /** Region the requests are signed for: `us-east-1`, or a private cloud's own name. */
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

type Ec2Draft = Draft<Ec2Target>;

/**
 * How an ec2 target signs its requests, safe to show in chat and logs: `key AKIA••••MPLE, secret ••••`
 * (and `, session token ••••`), or `default AWS credential chain`. The secret and token never appear.
 */
export function maskedCredentials(t: Ec2Target): string {
  if (t.accessKeyId === undefined) return 'default AWS credential chain';
  return `key ${maskAccessKeyId(t.accessKeyId)}, secret ••••${t.sessionToken !== undefined ? ', session token ••••' : ''}`;
}

const endpoint: OptionSpec<Ec2Draft> = {
  apply: (d, v, ctx) => errorOf(parseEndpoint(v, ctx.allowMetadata), (u) => (d.endpoint = u.href)),
};
const MASK = '••••';

/** The ec2 kind: DescribeAvailabilityZones against an AWS-compatible endpoint. */
export const ec2Kind = defineKind<Ec2Target>({
  kind: 'ec2',
  usage: '/add ec2 ENDPOINT region=R [key=… secret=… [token=…]]',
  summary: 'an AWS-compatible EC2 API answering DescribeAvailabilityZones',
  dialogue: '<code>ec2 https://ec2.example.com region=eu-west-1</code>',
  optionsExample: '<code>name=cloud key=AKIA… secret=…</code> (in a private chat)',
  address: {
    key: 'endpoint',
    missing: 'an ec2 target needs its endpoint URL, like /add ec2 https://ec2.us-east-1.amazonaws.com region=us-east-1',
    apply: endpoint.apply,
  },
  options: {
    endpoint,
    region: {
      apply: (d, v, { key }) =>
        REGION_RE.test(v) ? void (d.region = v) : `${key} must be 1-32 characters of a-z, 0-9 or "-", like us-east-1 or eu-central-1, got ${quoteValue(v)}`,
    },
    // The credential options never echo their value: a key pasted into the wrong option is still a secret.
    key: {
      secret: true,
      apply: (d, v, { key }) => {
        if (v !== '' && !ACCESS_KEY_RE.test(v)) return `${key} must be an access key id of 4-128 letters and digits, like AKIAIOSFODNN7EXAMPLE`;
        d.accessKeyId = v === '' ? undefined : v;
        return undefined;
      },
    },
    secret: {
      secret: true,
      apply: (d, v, { key }) => {
        if (v !== '' && (v.length > LIMITS.secretMaxChars || !CREDENTIAL_RE.test(v))) return `${key} must be at most ${LIMITS.secretMaxChars} characters without spaces`;
        d.secretAccessKey = v === '' ? undefined : v;
        return undefined;
      },
    },
    token: {
      secret: true,
      apply: (d, v, { key }) => {
        if (v !== '' && (v.length > LIMITS.sessionTokenMaxChars || !CREDENTIAL_RE.test(v))) {
          return `${key} must be a session token of at most ${LIMITS.sessionTokenMaxChars} characters without spaces`;
        }
        d.sessionToken = v === '' ? undefined : v;
        return undefined;
      },
    },
  },
  finish: (d) => ({
    endpoint: d.endpoint as string,
    region: d.region as string,
    ...(d.accessKeyId !== undefined ? { accessKeyId: d.accessKeyId } : {}),
    ...(d.secretAccessKey !== undefined ? { secretAccessKey: d.secretAccessKey } : {}),
    ...(d.sessionToken !== undefined ? { sessionToken: d.sessionToken } : {}),
  }),
  required: (d, given) => (d.region === undefined && !given.has('region') ? ['an ec2 target needs region=, like region=us-east-1'] : []),
  check(t) {
    if ((t.accessKeyId === undefined) !== (t.secretAccessKey === undefined)) return ['key= and secret= go together'];
    if (t.sessionToken !== undefined && t.accessKeyId === undefined) return ['token= needs key= and secret= too'];
    return [];
  },
  edited(before, d, given) {
    // A session token belongs to the key it was issued for: a new key drops a token not given with it.
    if (given.has('key') && !given.has('token') && d.accessKeyId !== before.accessKeyId) d.sessionToken = undefined;
  },
  nameHost: (d) => new URL(d.endpoint as string).hostname,
  show: (t) => `ec2 ${t.endpoint} (${t.region})`,
  describe: (t) => `ec2 DescribeAvailabilityZones in ${t.region} with ${maskedCredentials(t)}`,
  entry(t, secrets) {
    const entry: Record<string, string> = { endpoint: t.endpoint, region: t.region };
    if (t.accessKeyId !== undefined) entry.key = secrets ? t.accessKeyId : MASK;
    if (t.secretAccessKey !== undefined) entry.secret = secrets ? t.secretAccessKey : MASK;
    if (t.sessionToken !== undefined) entry.token = secrets ? t.sessionToken : MASK;
    return entry;
  },
  trace(t) {
    const u = new URL(t.endpoint);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
  },
  secrets: (t) => [t.secretAccessKey, t.sessionToken].filter((s): s is string => s !== undefined),
  stored: (t, key) => ({ key: t.accessKeyId, secret: t.secretAccessKey, token: t.sessionToken })[key],
  create(runtime) {
    const probe = createEc2Probe({
      allowMetadata: runtime.allowMetadata,
      ...(runtime.lookup ? { lookup: runtime.lookup } : {}),
      ...(runtime.sourceAddress !== undefined ? { sourceAddress: runtime.sourceAddress } : {}),
    });
    return { probe, close: () => probe.close() };
  },
});
