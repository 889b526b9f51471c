/**
 * Every environment variable a function reads, and the one place that reads and validates them.
 *
 * The stack (infra/) sets these names and the sandbox passes the same names, so this module is the
 * contract between them. Each reader is called once at module scope by a handler: a missing or bad
 * value throws at cold start with a message naming the variable, instead of failing a user's sign-in.
 */
import { getBooleanFromEnv, getNumberFromEnv, getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';

/** Environment variable names. Infrastructure and sandbox import these rather than retyping them. */
export const ENV = {
  appName: 'APP_NAME',
  appUrl: 'APP_URL',
  tableName: 'TABLE_NAME',
  allowedEmailDomains: 'ALLOWED_EMAIL_DOMAINS',
  allowSubdomains: 'ALLOW_SUBDOMAINS',
  reminderStateMachineArn: 'REMINDER_STATE_MACHINE_ARN',
  fromEmailAddress: 'FROM_EMAIL_ADDRESS',
  fromEmailName: 'FROM_EMAIL_NAME',
  lockoutMaxAttempts: 'LOCKOUT_MAX_ATTEMPTS',
  lockoutWindowSeconds: 'LOCKOUT_WINDOW_SECONDS',
  lockoutDurationSeconds: 'LOCKOUT_DURATION_SECONDS',
  lockoutEscalation: 'LOCKOUT_ESCALATION',
  lockoutMaxDurationSeconds: 'LOCKOUT_MAX_DURATION_SECONDS',
  lockoutFailMode: 'LOCKOUT_FAIL_MODE',
  lockoutQuickLoginMode: 'LOCKOUT_QUICK_LOGIN_MODE',
  lockoutQuickLoginIntervalMs: 'LOCKOUT_QUICK_LOGIN_INTERVAL_MS',
  auditRetentionDays: 'AUDIT_RETENTION_DAYS',
  legacyUserPoolId: 'LEGACY_USER_POOL_ID',
  legacyClientId: 'LEGACY_CLIENT_ID',
  legacyRegion: 'LEGACY_REGION',
  kmsKeyArn: 'KMS_KEY_ARN',
  sendgridSecretArn: 'SENDGRID_SECRET_ARN',
  sendgridApiBaseUrl: 'SENDGRID_API_BASE_URL',
  twilioSecretArn: 'TWILIO_SECRET_ARN',
  twilioApiBaseUrl: 'TWILIO_API_BASE_URL',
  passwordlessLinkUrl: 'SIGN_IN_LINK_URL',
  accountRecoveryUrl: 'ACCOUNT_RECOVERY_URL',
  passwordlessValiditySeconds: 'SIGN_IN_VALIDITY_SECONDS',
  passwordlessMinIntervalSeconds: 'SIGN_IN_MESSAGE_INTERVAL_SECONDS',
  passwordlessMaxPerHour: 'SIGN_IN_MESSAGES_PER_HOUR',
  signInMethodMarkers: 'SIGN_IN_METHOD_MARKERS',
} as const;

/** Names of the variables a function may read; anything else in its environment is a stack bug. */
export type EnvName = (typeof ENV)[keyof typeof ENV];

type Env = Readonly<Record<string, string | undefined>>;

/** Thrown at cold start when configuration is missing or malformed. Never shown to end users. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function withEnv<T>(env: Env, read: () => T): T {
  // Powertools reads process.env; tests pass their own map, so swap it in for the duration of a read.
  if (env === process.env) return read();
  const saved = process.env;
  process.env = { ...env };
  try {
    return read();
  } finally {
    process.env = saved;
  }
}

/** A required, non-empty string. */
export function readString(key: EnvName, env: Env = process.env): string {
  return withEnv(env, () => {
    const value = getStringFromEnv({ key, defaultValue: '' });
    if (value === '') throw new ConfigError(`Environment variable ${key} is required`);
    return value;
  });
}

/** An optional string; empty counts as unset. */
export function readOptionalString(key: EnvName, env: Env = process.env): string | undefined {
  return withEnv(env, () => getStringFromEnv({ key, defaultValue: '' }) || undefined);
}

/** A whole number within bounds. */
export function readInt(key: EnvName, bounds: { min: number; max: number; default?: number }, env: Env = process.env): number {
  return withEnv(env, () => {
    let value: number;
    try {
      value = getNumberFromEnv({ key, ...(bounds.default === undefined ? {} : { defaultValue: bounds.default }) });
    } catch {
      throw new ConfigError(`Environment variable ${key} must be a whole number, got ${JSON.stringify(process.env[key] ?? '')}`);
    }
    if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
      throw new ConfigError(`Environment variable ${key} must be a whole number from ${bounds.min} to ${bounds.max}, got ${JSON.stringify(process.env[key])}`);
    }
    return value;
  });
}

/** `true` or `false`. */
export function readBool(key: EnvName, defaultValue: boolean, env: Env = process.env): boolean {
  return withEnv(env, () => {
    try {
      return getBooleanFromEnv({ key, defaultValue, extendedParsing: true });
    } catch {
      throw new ConfigError(`Environment variable ${key} must be true or false, got ${JSON.stringify(process.env[key])}`);
    }
  });
}

/** One of a fixed set of words. */
export function readEnum<T extends string>(key: EnvName, allowed: readonly T[], defaultValue: T, env: Env = process.env): T {
  const value = readOptionalString(key, env) ?? defaultValue;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`Environment variable ${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** A comma-separated list with at least one entry; entries are trimmed and empty ones dropped. */
export function readList(key: EnvName, env: Env = process.env): string[] {
  const items = readString(key, env)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) throw new ConfigError(`Environment variable ${key} must list at least one value`);
  return items;
}

/** An http(s) URL without a trailing slash. */
export function readUrl(key: EnvName, env: Env = process.env): string {
  const value = readString(key, env);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`Environment variable ${key} must be a URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`Environment variable ${key} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, '');
}

/** The app's password-reset page, which a lock notice links to: an http(s) URL, or undefined when unset. */
export function readAccountRecoveryUrl(env: Env = process.env): string | undefined {
  return readOptionalString(ENV.accountRecoveryUrl, env) === undefined ? undefined : readUrl(ENV.accountRecoveryUrl, env);
}

/** An ARN. */
export function readArn(key: EnvName, env: Env = process.env): string {
  const value = readString(key, env);
  if (!/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/.test(value)) {
    throw new ConfigError(`Environment variable ${key} must be an ARN, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** What every message template needs to know about the product. */
export interface BrandingSettings {
  readonly appName: string;
  readonly appUrl?: string;
}

export function readBranding(env: Env = process.env): BrandingSettings {
  const appUrl = readOptionalString(ENV.appUrl, env);
  return { appName: readString(ENV.appName, env), ...(appUrl ? { appUrl } : {}) };
}

/** Where emails come from. */
export interface SenderIdentity {
  readonly address: string;
  readonly name: string;
}

export function readSenderIdentity(env: Env = process.env): SenderIdentity {
  const address = readString(ENV.fromEmailAddress, env);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
    throw new ConfigError(`Environment variable ${ENV.fromEmailAddress} must be an email address, got ${JSON.stringify(address)}`);
  }
  return { address, name: readOptionalString(ENV.fromEmailName, env) ?? readString(ENV.appName, env) };
}

/** The sign-up domain rule. */
export interface DomainPolicySettings {
  readonly allowedDomains: readonly string[];
  readonly allowSubdomains: boolean;
}

export function readDomainPolicy(env: Env = process.env): DomainPolicySettings {
  return {
    allowedDomains: readList(ENV.allowedEmailDomains, env).map((d) => d.toLowerCase().replace(/\.$/, '')),
    allowSubdomains: readBool(ENV.allowSubdomains, false, env),
  };
}

/** What happens to a sign-in when the attempt counter cannot be reached. */
export type LockoutFailMode = 'closed' | 'open';

/** The brute-force lockout policy. */
export interface LockoutSettings {
  /** Attempts allowed within the window before the account locks. */
  readonly maxAttempts: number;
  readonly windowSeconds: number;
  /** Length of the first lock. */
  readonly lockSeconds: number;
  /** Whether each further lock doubles, up to `maxLockSeconds`. */
  readonly escalate: boolean;
  readonly maxLockSeconds: number;
  readonly failMode: LockoutFailMode;
  /**
   * Keycloak's quick-login check: an attempt that follows the login's previous counted attempt by less
   * than `minIntervalMilliseconds` counts twice (`double`) or locks the login at once (`lock`). Absent or `off`: every attempt counts once.
   */
  readonly quickLogin?: QuickLoginSettings;
}

/** What an attempt closer than the minimum interval to the previous one does; see {@link LockoutSettings}. */
export type QuickLoginMode = 'off' | 'double' | 'lock';

/** The quick-login check of {@link LockoutSettings}. */
export interface QuickLoginSettings {
  readonly mode: QuickLoginMode;
  /** Attempts closer together than this are quick. */
  readonly minIntervalMilliseconds: number;
}

export function readLockout(env: Env = process.env): LockoutSettings {
  const lockSeconds = readInt(ENV.lockoutDurationSeconds, { min: 1, max: 86_400, default: 300 }, env);
  const maxLockSeconds = readInt(ENV.lockoutMaxDurationSeconds, { min: 1, max: 604_800, default: 900 }, env);
  if (maxLockSeconds < lockSeconds) {
    throw new ConfigError(`Environment variable ${ENV.lockoutMaxDurationSeconds} (${maxLockSeconds}) must not be below ${ENV.lockoutDurationSeconds} (${lockSeconds})`);
  }
  return {
    maxAttempts: readInt(ENV.lockoutMaxAttempts, { min: 1, max: 100, default: 5 }, env),
    windowSeconds: readInt(ENV.lockoutWindowSeconds, { min: 1, max: 86_400, default: 900 }, env),
    lockSeconds,
    escalate: readBool(ENV.lockoutEscalation, false, env),
    maxLockSeconds,
    failMode: readEnum(ENV.lockoutFailMode, ['closed', 'open'] as const, 'closed', env),
    quickLogin: {
      mode: readEnum(ENV.lockoutQuickLoginMode, ['off', 'double', 'lock'] as const, 'off', env),
      minIntervalMilliseconds: readInt(ENV.lockoutQuickLoginIntervalMs, { min: 1, max: 60_000, default: 1_000 }, env),
    },
  };
}

/** The legacy Cognito pool that user migration authenticates against. */
export interface LegacyPoolSettings {
  readonly userPoolId: string;
  readonly clientId: string;
  readonly region: string;
}

export function readLegacyPool(env: Env = process.env): LegacyPoolSettings {
  const userPoolId = readString(ENV.legacyUserPoolId, env);
  const region = readOptionalString(ENV.legacyRegion, env) ?? userPoolId.split('_')[0] ?? '';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new ConfigError(`Environment variable ${ENV.legacyRegion} must be an AWS region, got ${JSON.stringify(region)}`);
  }
  return { userPoolId, clientId: readString(ENV.legacyClientId, env), region };
}

/** Third-party delivery: which secret holds the credentials and which API base URL to call. */
export interface ProviderSettings {
  readonly secretArn: string;
  readonly apiBaseUrl: string;
}

export function readSendGrid(env: Env = process.env): ProviderSettings {
  return { secretArn: readArn(ENV.sendgridSecretArn, env), apiBaseUrl: readUrl(ENV.sendgridApiBaseUrl, env) };
}

export function readTwilio(env: Env = process.env): ProviderSettings {
  return { secretArn: readArn(ENV.twilioSecretArn, env), apiBaseUrl: readUrl(ENV.twilioApiBaseUrl, env) };
}

/** Passwordless sign-in: how long a link or code lives and how often one may be sent. */
export interface PasswordlessSettings {
  /** Page of the app a magic link opens; the secret goes in its fragment. */
  readonly linkUrl: string;
  /** How long a link or code can be used, and how long Cognito keeps the sign-in session open. */
  readonly validitySeconds: number;
  /** Least time between two messages to one login. */
  readonly minIntervalSeconds: number;
  /** Most messages to one login in an hour. */
  readonly maxPerHour: number;
}

export function readPasswordless(env: Env = process.env): PasswordlessSettings {
  return {
    linkUrl: readUrl(ENV.passwordlessLinkUrl, env),
    // Cognito keeps a custom-auth session for at most 15 minutes, and a link is bound to its session.
    validitySeconds: readInt(ENV.passwordlessValiditySeconds, { min: 60, max: 900, default: 900 }, env),
    minIntervalSeconds: readInt(ENV.passwordlessMinIntervalSeconds, { min: 1, max: 3600, default: 60 }, env),
    maxPerHour: readInt(ENV.passwordlessMaxPerHour, { min: 1, max: 100, default: 5 }, env),
  };
}
