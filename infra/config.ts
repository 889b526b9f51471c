/**
 * The stack's one configuration: a zod schema, read from config/default.json, overlaid by
 * config/<ENV>.json, then by environment variables named after each field (see `overrideVariable`).
 *
 * Defaults live in config/default.json only, so there is one place to read them; the schema holds
 * types, bounds and descriptions, and docs/configuration.md is generated from both (infra/config-doc.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { FunctionKind } from '../functions/catalog.ts';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const EMAIL = /^[^@\s<>"]+@[^@\s<>"]+\.[^@\s<>"]+$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const httpUrl = z.url({ protocol: /^https?$/ }).refine((v) => !v.endsWith('/'), 'must not end with a slash');
const seconds = (max: number) => z.number().int().min(1).max(max);

/** One function kind's memory: Lambda gives CPU in proportion, so this sets its cold start too (docs/performance.md, "Memory"). */
const memoryMb = (who: string) => z.number().int().min(128).max(10_240).describe(`Memory of ${who}, in MB; Lambda gives CPU in proportion.`);

export const ConfigSchema = z
  .strictObject({
    environment: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,19}$/, 'must be lower-case letters, digits and dashes, starting with a letter, at most 20 characters')
      .describe('Environment name. Names the stack (`cognito-triggers-<environment>`) and prefixes every resource name.'),
    awsAccountId: z
      .string()
      .regex(/^\d{12}$/, 'must be 12 digits')
      .describe('AWS account to deploy to. The provider refuses any other account, and ARNs are built from it, so no data source has to ask AWS. The placeholder default lets the offline plan run.'),
    region: z.string().regex(REGION, 'must be an AWS region such as eu-west-1').describe('AWS region of every resource.'),
    deliveryMode: z
      .enum(['custom-senders', 'cognito'])
      .describe('`custom-senders`: a KMS key and the two sender functions deliver every email and SMS through SendGrid and Twilio. `cognito`: Cognito delivers through SES (and SNS), personalised by the custom-message trigger; no key, no sender functions, no provider secrets.'),
    deletionProtection: z
      .boolean()
      .describe('Protect the user pools and the table from deletion (`make destroy` refuses such an environment).'),
    signUp: z.strictObject({
      allowedEmailDomains: z
        .array(z.string().toLowerCase().regex(DOMAIN, 'must be a domain name such as gmail.com'))
        .min(1, 'must list at least one domain')
        .describe('Email domains an account may have its address at (comma-separated in the variable): enforced on every sign-up, a change of address, every message, migration and token issue.'),
      allowSubdomains: z.boolean().describe('Also allow subdomains of the listed domains (`mail.example.com` for `example.com`), wherever the domain rule applies.'),
    }),
    lockout: z
      .strictObject({
        maxAttempts: z.number().int().min(1).max(100).describe('Failed sign-ins allowed within the window before the account locks.'),
        windowSeconds: seconds(86_400).describe('Window in which failed sign-ins are counted.'),
        lockSeconds: seconds(86_400).describe('Length of the first lock.'),
        escalate: z.boolean().describe('Double each further lock, up to `maxLockSeconds`.'),
        maxLockSeconds: seconds(604_800).describe('Longest lock when escalating.'),
        failMode: z
          .enum(['closed', 'open'])
          .describe('When the attempt counter cannot be reached: `closed` refuses the sign-in, `open` lets it through.'),
        quickLogin: z
          .strictObject({
            mode: z
              .enum(['off', 'double', 'lock'])
              .describe(
                "Keycloak's quick-login check: a sign-in attempt that follows the login's previous one by less than `minIntervalMilliseconds` counts twice (`double`) or locks the login at once (`lock`). `off` counts every attempt once.",
              ),
            minIntervalMilliseconds: z.number().int().min(1).max(60_000).describe('Attempts closer together than this are quick (Keycloak: quickLoginCheckMilliSeconds).'),
          })
          .describe('The quick-login check, off by default. See docs/lockout.md.'),
        resetPasswordPath: z
          .string()
          .regex(/^\/(?!\/)[A-Za-z0-9/_.~-]*$/, 'must be a path such as /reset-password')
          .describe('Page of the app (under `email.appUrl`) where a user resets a forgotten password. The email that tells the owner of an existing account about a lock links to it; with `email.appUrl` empty the email has no link and points to the app\'s "Forgot your password?" instead. See docs/lockout.md ("Telling the owner").'),
      })
      .refine((l) => l.maxLockSeconds >= l.lockSeconds, { path: ['maxLockSeconds'], message: 'must not be below lockout.lockSeconds' }),
    workflow: z.strictObject({
      reminderDelaySeconds: seconds(31_536_000).describe('Wait after sign-up before reminding a user who has not confirmed.'),
      deletionDelaySeconds: seconds(31_536_000).describe('Wait after the reminder before deleting a user who still has not confirmed.'),
    }),
    email: z.strictObject({
      fromAddress: z.string().regex(EMAIL, 'must be an email address').describe('Sender address. Becomes an SES email identity that must be verified before Cognito or the functions can send.'),
      fromName: z.string().min(1).max(64).describe('Sender display name.'),
      appName: z.string().min(1).max(64).describe('Product name used in every message.'),
      appUrl: z
        .union([z.literal(''), httpUrl])
        .describe('Link placed in messages; empty for none.'),
      sesReceiverIdentities: z
        .array(z.string().regex(EMAIL, 'must be an email address'))
        .describe('Recipient addresses to verify while the account is in the SES sandbox, where SES only delivers to verified addresses (comma-separated in the variable).'),
    }),
    legacyPool: z
      .strictObject({
        create: z.boolean().describe('Create a legacy user pool and client for user migration to read from. Turn off to migrate from an existing pool.'),
        userPoolId: z.string().describe('Existing legacy pool id, used when `create` is false.'),
        clientId: z.string().describe('Existing legacy app client id (with ADMIN_USER_PASSWORD_AUTH), used when `create` is false.'),
        region: z.union([z.literal(''), z.string().regex(REGION, 'must be an AWS region')]).describe('Region of the existing legacy pool; empty means the pool id\'s own region.'),
      })
      .superRefine((l, ctx) => {
        if (l.create) return;
        if (!/^[a-z]{2}(-[a-z]+)+-\d_[A-Za-z0-9]+$/.test(l.userPoolId)) {
          ctx.addIssue({ code: 'custom', path: ['userPoolId'], message: 'must be a user pool id such as eu-west-1_AbC123 when legacyPool.create is false' });
        }
        if (!/^[a-z0-9]{1,128}$/i.test(l.clientId)) {
          ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'must be an app client id when legacyPool.create is false' });
        }
      }),
    passwordless: z.strictObject({
      enabled: z
        .boolean()
        .describe('Passwordless sign-in: the app client allows `CUSTOM_AUTH`, and the define, create and verify auth challenge triggers email a magic link or a 6-digit code. Needs `email.appUrl`, where the link points. See docs/functions.md ("Passwordless sign-in").'),
      linkPath: z
        .string()
        .regex(/^\/[A-Za-z0-9/_.~-]*$/, 'must be a path such as /sign-in/link')
        .describe('Page of the app (under `email.appUrl`) that a magic link opens; the link\'s secret goes in the URL fragment, which browsers never send to a server.'),
      validityMinutes: z
        .number()
        .int()
        .min(3)
        .max(15)
        .describe('How long a link or code can be used. It is also the app client\'s auth session validity, since a link is bound to its sign-in session (Cognito allows 3 to 15 minutes).'),
      minIntervalSeconds: seconds(3600).describe('Least time between two sign-in messages to one login.'),
      maxPerHour: z.number().int().min(1).max(100).describe('Most sign-in messages to one login in an hour.'),
    }),
    audit: z.strictObject({
      retentionDays: z.number().int().min(1).max(3650).describe('Days a sign-in audit record is kept before DynamoDB expires it.'),
    }),
    logs: z.strictObject({
      retentionDays: z
        .number()
        .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
        .describe('CloudWatch Logs retention of every log group.'),
      level: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).describe('Function log level (POWERTOOLS_LOG_LEVEL and the Lambda application log level).'),
    }),
    alarms: z
      .strictObject({
        enabled: z
          .boolean()
          .describe('Deploy CloudWatch alarms (per function: ERROR log lines and Lambda errors, plus dropped sender events; the welcome email\'s failure queue; failed reminder executions), each notifying one SNS topic on ALARM and on OK. See docs/infrastructure.md.'),
        email: z
          .union([z.literal(''), z.string().regex(EMAIL, 'must be an email address')])
          .describe('Address subscribed to the alarm topic; SNS mails it a confirmation link that must be followed before any alarm arrives. Empty for none.'),
        topicArn: z
          .union([z.literal(''), z.string().regex(SNS_TOPIC_ARN, 'must be an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:ops-alarms')])
          .describe('Existing SNS topic to notify instead of creating `<stack>-alarms`; its access policy must let `cloudwatch.amazonaws.com` publish (and, if it is encrypted, its key policy must let CloudWatch use the key). Empty to create the topic.'),
      })
      .refine((a) => a.email === '' || a.topicArn === '', {
        path: ['email'],
        message: 'must be empty when alarms.topicArn is set: subscribe to that topic where it is managed',
      }),
    providers: z.strictObject({
      sendgridApiBaseUrl: httpUrl.describe('SendGrid API base URL.'),
      twilioApiBaseUrl: httpUrl.describe('Twilio API base URL.'),
    }),
    tokens: z.strictObject({
      accessTokenMinutes: z.number().int().min(5).max(1440).describe('Access token validity.'),
      idTokenMinutes: z.number().int().min(5).max(1440).describe('ID token validity.'),
      refreshTokenDays: z.number().int().min(1).max(3650).describe('Refresh token validity.'),
    }),
    waf: z.strictObject({
      enabled: z
        .boolean()
        .describe('Attach an AWS WAF web ACL to the user pool with two per-IP rate-based rules (sign-in calls; sign-up and recovery calls) and an alarm on blocked requests. See docs/lockout.md.'),
      signInLimit: z
        .number()
        .int()
        .min(10)
        .max(2_000_000_000)
        .describe('Requests one IP may send to InitiateAuth and RespondToAuthChallenge within `windowSeconds` before WAF blocks it.'),
      signUpLimit: z
        .number()
        .int()
        .min(10)
        .max(2_000_000_000)
        .describe('Requests one IP may send to SignUp, ConfirmSignUp, ForgotPassword, ConfirmForgotPassword and ResendConfirmationCode within `windowSeconds` before WAF blocks it.'),
      windowSeconds: z
        .union([z.literal(60), z.literal(120), z.literal(300), z.literal(600)])
        .describe('Evaluation window of both rate rules: 60, 120, 300 or 600 seconds (the windows WAF offers).'),
    }),
    threatProtection: z.strictObject({
      mode: z
        .enum(['off', 'audit', 'enforced'])
        .describe('Cognito threat protection (`aws_cognito_risk_configuration`, PLUS tier only): `audit` records risk without acting, `enforced` blocks compromised credentials on sign-in, sign-up and password change and takes the account-takeover actions below.'),
      lowRisk: z.enum(['NO_ACTION', 'MFA_IF_CONFIGURED', 'MFA_REQUIRED', 'BLOCK']).describe('Account-takeover action on a low-risk sign-in.'),
      mediumRisk: z.enum(['NO_ACTION', 'MFA_IF_CONFIGURED', 'MFA_REQUIRED', 'BLOCK']).describe('Account-takeover action on a medium-risk sign-in.'),
      highRisk: z.enum(['NO_ACTION', 'MFA_IF_CONFIGURED', 'MFA_REQUIRED', 'BLOCK']).describe('Account-takeover action on a high-risk sign-in.'),
      notify: z.boolean().describe('Email the user (the project\'s account-takeover template) whenever an account-takeover action is taken.'),
    }),
    userPoolTier: z.enum(['LITE', 'ESSENTIALS', 'PLUS']).describe('Cognito feature plan of the user pool.'),
    preTokenGenerationVersion: z
      .enum(['V1_0', 'V2_0', 'V3_0'])
      .describe('Event version of the pre-token-generation trigger. `V2_0` (access-token customisation) and `V3_0` (also machine-to-machine tokens of the client-credentials grant, which the trigger passes through unchanged) need the ESSENTIALS or PLUS feature plan.'),
    functionMemoryMb: z.strictObject({
      syncTrigger: memoryMb('the synchronous triggers, which a user waits for'),
      asyncTrigger: memoryMb('the custom email and SMS senders'),
      workflowTask: memoryMb('the reminder workflow\'s tasks'),
      asyncTask: memoryMb('the table stream\'s consumers, send-welcome-email and notify-lockout'),
    }),
    tags: z.record(z.string().regex(/^[\w .:/=+@-]{1,128}$/), z.string().max(256)).describe('Tags on every resource (`key=value,key=value` in the variable).'),
  })
  .superRefine((c, ctx) => {
    if (c.preTokenGenerationVersion !== 'V1_0' && c.userPoolTier === 'LITE') {
      ctx.addIssue({ code: 'custom', path: ['preTokenGenerationVersion'], message: `${c.preTokenGenerationVersion} needs userPoolTier ESSENTIALS or PLUS` });
    }
    if (c.passwordless.enabled && c.email.appUrl === '') {
      ctx.addIssue({ code: 'custom', path: ['passwordless', 'enabled'], message: 'needs email.appUrl, where a magic link points' });
    }
    // Cognito offers threat protection on the Plus feature plan only; on another plan the risk
    // configuration would fail at apply, after the rest of the stack had changed.
    if (c.threatProtection.mode !== 'off' && c.userPoolTier !== 'PLUS') {
      ctx.addIssue({ code: 'custom', path: ['threatProtection', 'mode'], message: `threat protection needs userPoolTier PLUS (it is ${c.userPoolTier}); set threatProtection.mode to off or userPoolTier to PLUS` });
    }
  });

/** The validated configuration. */
export type Config = z.infer<typeof ConfigSchema>;

const MEMORY_FIELD = {
  'sync-trigger': 'syncTrigger',
  'async-trigger': 'asyncTrigger',
  'workflow-task': 'workflowTask',
  'async-task': 'asyncTask',
} as const satisfies Record<FunctionKind, keyof Config['functionMemoryMb']>;

/** The memory, in MB, of a function of `kind`: `functionMemoryMb` holds one figure per kind. */
export function memoryMbFor(config: Pick<Config, 'functionMemoryMb'>, kind: FunctionKind): number {
  return config.functionMemoryMb[MEMORY_FIELD[kind]];
}

/** A synth-stopping configuration problem; the message names every bad field and value. */
export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
}

/** Prefix of every override variable. */
export const OVERRIDE_PREFIX = 'CT_';

/** The environment variable that overrides a field: `CT_` + the path in SCREAMING_SNAKE_CASE. */
export function overrideVariable(fieldPath: readonly string[]): string {
  return OVERRIDE_PREFIX + fieldPath.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2')).join('_').toUpperCase();
}

/** What a leaf field holds, which decides how its override variable is parsed. */
export type FieldKind = 'string' | 'number' | 'boolean' | 'list' | 'map';

/** A configurable leaf field. */
export interface FieldInfo {
  readonly path: readonly string[];
  readonly kind: FieldKind;
  readonly description: string;
  readonly variable: string;
  /** Allowed words for enum fields. */
  readonly values?: readonly string[];
}

interface JsonSchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, JsonSchemaNode>;
  enum?: string[];
  anyOf?: JsonSchemaNode[];
  items?: JsonSchemaNode;
}

/** Every leaf field of the schema, in declaration order; the docs and the override parser both use it. */
export function configFields(): FieldInfo[] {
  const root = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const out: FieldInfo[] = [];
  const walk = (node: JsonSchemaNode, at: string[]): void => {
    if (node.type === 'object' && node.properties) {
      for (const [key, child] of Object.entries(node.properties)) walk(child, [...at, key]);
      return;
    }
    const first = node.anyOf?.[0] ?? node;
    const kind: FieldKind =
      node.type === 'array' ? 'list'
      : node.type === 'object' ? 'map'
      : node.type === 'boolean' ? 'boolean'
      : node.type === 'number' || node.type === 'integer' || first.type === 'number' ? 'number'
      : 'string';
    out.push({
      path: at,
      kind,
      description: node.description ?? '',
      variable: overrideVariable(at),
      ...(node.enum ? { values: node.enum } : {}),
    });
  };
  walk(root, []);
  return out;
}

function parseOverride(field: FieldInfo, raw: string): unknown {
  const text = raw.trim();
  switch (field.kind) {
    case 'number':
      // An unparsable number stays a string so the schema error shows what was typed.
      return text !== '' && Number.isFinite(Number(text)) ? Number(text) : raw;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : raw;
    case 'list':
      return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'map':
      return Object.fromEntries(
        text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((pair) => {
          const eq = pair.indexOf('=');
          return eq < 0 ? [pair, ''] : [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
        }),
      );
    default:
      return raw;
  }
}

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars replace. */
function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) && k !== 'tags' ? merge(out[k] as Json, v) : v;
  }
  return out;
}

function setAt(target: Json, at: readonly string[], value: unknown): void {
  let node = target;
  for (const key of at.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[at[at.length - 1]!] = value;
}

function getAt(source: unknown, at: readonly PropertyKey[]): unknown {
  let node = source;
  for (const key of at) node = isPlainObject(node) || Array.isArray(node) ? (node as Record<PropertyKey, unknown>)[key] : undefined;
  return node;
}

function readJson(file: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigValidationError(`Configuration file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new ConfigValidationError(`Configuration file ${file} must hold a JSON object`);
  return parsed;
}

/** Where configuration files live. */
export const CONFIG_DIR = path.resolve(import.meta.dirname, '..', 'config');

/** Options of `loadConfig`; tests pass their own environment and overlays. */
export interface LoadConfigOptions {
  /** Variables to read `ENV` and the `CT_*` overrides from. Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory holding default.json and the environment overlays. */
  readonly configDir?: string;
  /** Applied after the files and before the variables, for tests and tools. */
  readonly overrides?: Json;
}

/**
 * Reads, merges and validates the configuration. Throws `ConfigValidationError` naming each bad field,
 * its value and where that value came from.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? CONFIG_DIR;
  const sources = new Map<string, string>();
  const note = (obj: unknown, at: string[], source: string): void => {
    if (isPlainObject(obj) && at[0] !== 'tags') {
      for (const [k, v] of Object.entries(obj)) note(v, [...at, k], source);
    } else sources.set(at.join('.'), source);
  };

  const defaultsFile = path.join(dir, 'default.json');
  let merged = readJson(defaultsFile);
  note(merged, [], defaultsFile);
  const envName = env.ENV?.trim();
  if (envName) {
    if (!/^[a-z][a-z0-9-]*$/.test(envName)) throw new ConfigValidationError(`ENV must be a lower-case name such as dev, got ${JSON.stringify(envName)}`);
    const overlayFile = path.join(dir, `${envName}.json`);
    const overlay = existsSync(overlayFile) ? readJson(overlayFile) : {};
    if ('environment' in overlay && overlay.environment !== envName) {
      throw new ConfigValidationError(`environment = ${JSON.stringify(overlay.environment)} in ${overlayFile} contradicts ENV=${envName}`);
    }
    // ENV names the environment even without an overlay file, so ENV=staging never deploys over dev.
    merged = merge(merged, { ...overlay, environment: envName });
    note({ ...overlay, environment: envName }, [], existsSync(overlayFile) ? overlayFile : 'ENV');
  }
  if (options.overrides) {
    merged = merge(merged, options.overrides);
    note(options.overrides, [], 'overrides');
  }
  for (const field of configFields()) {
    const raw = env[field.variable];
    if (raw === undefined) continue;
    setAt(merged, field.path, parseOverride(field, raw));
    sources.set(field.path.join('.'), `variable ${field.variable}`);
  }

  const result = ConfigSchema.safeParse(merged);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(root)';
    const value = issue.code === 'unrecognized_keys' ? undefined : getAt(merged, issue.path);
    const source = sources.get(issue.path.filter((p) => typeof p === 'string').join('.'));
    const named = issue.code === 'unrecognized_keys' ? `${field}: unknown field(s) ${issue.keys.join(', ')}` : `${field} = ${JSON.stringify(value)}`;
    return `  - ${named}: ${issue.message}${source ? ` (from ${source})` : ''}`;
  });
  throw new ConfigValidationError(`Invalid configuration:\n${problems.join('\n')}`);
}

/** Name of the stack, and prefix of every resource name. */
export function stackName(config: Pick<Config, 'environment'>): string {
  return `cognito-triggers-${config.environment}`;
}
