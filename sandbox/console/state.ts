/**
 * What the sandbox console shows, gathered on request from the sandbox's own stores and APIs: every
 * delivered message with its code, the users of both pools (Cognito's `ListUsers` through the sandbox
 * endpoint) with their sign-in lock and last sign-in (the table, through its DynamoDB endpoint), and
 * the reminder workflow's executions. Newest first everywhere. The snapshot holds only what the
 * stores already show a developer: codes yes, provider credentials and tokens never.
 */
import { ListUsersCommand, type CognitoIdentityProviderClient, type UserType } from '@aws-sdk/client-cognito-identity-provider';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { LockoutSettings } from '../../functions/common/config.ts';
import { lockoutKey, lockoutLogin, parseLockoutState, type DocumentSender, type LockoutState } from '../../functions/common/lockout.ts';
import { ITEM_PREFIX, LOCKOUT_SK, loginKeyOfLockoutPartition, PROFILE_SK, subOfUserPartition } from '../../functions/common/table.ts';
import type { StoredMessage } from '../providers.ts';
import type { Execution } from '../sfn.ts';

/** A one-time code (or temporary password) found in a message. */
export interface MessageCode {
  /** What the message calls it: `Confirmation code`, `Reset code`, `Temporary password`, … */
  readonly label: string;
  readonly value: string;
}

export interface ConsoleMessage {
  readonly id: string;
  /** Who delivered it. */
  readonly via: 'SendGrid' | 'Twilio' | 'SES' | 'Cognito SMS';
  readonly channel: 'email' | 'sms';
  readonly to: string;
  readonly from: string;
  readonly subject?: string;
  readonly text: string;
  readonly at: string;
  readonly code?: MessageCode;
  /** The magic link a passwordless sign-in message carries. */
  readonly link?: string;
}

/** A login's sign-in attempt state, as pre-authentication keeps it. */
export interface ConsoleLock {
  readonly login: string;
  /** Attempts let through in the current window (0 once the window has passed). */
  readonly attempts: number;
  readonly maxAttempts: number;
  /** ISO time the current lock ends; absent when not locked. */
  readonly lockedUntil?: string;
  /** Attempts refused because of a lock, ever. */
  readonly refused: number;
}

export interface ConsoleUser {
  readonly pool: 'user' | 'legacy';
  readonly username: string;
  readonly sub?: string;
  readonly email?: string;
  readonly phoneNumber?: string;
  readonly name?: string;
  /** Cognito's `UserStatus`: UNCONFIRMED, CONFIRMED, FORCE_CHANGE_PASSWORD, RESET_REQUIRED, … */
  readonly status: string;
  readonly enabled: boolean;
  readonly emailVerified?: boolean;
  readonly createdAt?: string;
  readonly lastSignInAt?: string;
  readonly signIns?: number;
  /** Absent when no attempt is recorded. */
  readonly lock?: ConsoleLock;
}

export interface ConsoleExecution {
  readonly executionArn: string;
  readonly name: string;
  /** The user's email (or username) when the pool knows or knew them; else the username the input names. */
  readonly user: string;
  /** The user's status now; absent once the user is gone. */
  readonly userStatus?: string;
  readonly status: Execution['status'];
  readonly startedAt: string;
  readonly stoppedAt?: string;
  /** States entered, in order. */
  readonly states: readonly string[];
  /** The wait it is holding: the Wait state, the task that runs after it, and when (absent with manual waits). */
  readonly waiting?: { readonly state: string; readonly next?: string; readonly until?: string };
  readonly error?: string;
  readonly cause?: string;
}

/** Facts about the running sandbox a developer configures an app with. */
export interface ConsoleInfo {
  readonly stackName: string;
  readonly region: string;
  readonly deliveryMode: string;
  readonly cognito: { readonly endpoint: string; readonly userPoolId: string; readonly clientId: string; readonly legacyUserPoolId: string };
  readonly lockout: Pick<LockoutSettings, 'maxAttempts' | 'windowSeconds' | 'lockSeconds'>;
  /** Effective workflow waits in seconds (the rendered ones times the wait scale); absent with manual waits. */
  readonly waits?: { readonly reminderSeconds: number; readonly deletionSeconds: number };
}

export interface ConsoleState {
  readonly generatedAt: string;
  readonly info: ConsoleInfo;
  readonly messages: readonly ConsoleMessage[];
  readonly users: readonly ConsoleUser[];
  /** Attempt states of logins no user of the user pool has: unknown users, typos, attacks. */
  readonly otherLogins: readonly ConsoleLock[];
  readonly executions: readonly ConsoleExecution[];
}

/** Where the snapshot comes from; each is a narrow view of a sandbox part, so tests can pass stubs. */
export interface ConsoleSources {
  readonly info: ConsoleInfo;
  readonly messages: () => Promise<ReadonlyArray<StoredMessage & { via?: ConsoleMessage['via'] }>>;
  readonly cognito: Pick<CognitoIdentityProviderClient, 'send'>;
  readonly pools: { readonly user: string; readonly legacy?: string };
  readonly db: DocumentSender;
  readonly tableName: string;
  readonly lockout: Pick<LockoutSettings, 'maxAttempts' | 'windowSeconds'>;
  readonly executions: () => readonly Execution[];
  /** The reminder workflow's definition, to name the task after each Wait state. */
  readonly definition?: string;
  readonly now?: () => number;
}

// A code follows its label on a line of its own in every email the templates render (`Reset code: 123456`);
// a name cannot forge such a line, because the templates fold every newline out of it. In an SMS the code
// follows `code is` / `temporary password`, after the name, so the last such phrase is the real one.
// Cognito's own default messages say `code is` too.
const LABELLED = /^[ \t]*([A-Za-z][A-Za-z -]{0,40}?(?:code|password)):[ \t]*(\S+)[ \t]*$/im;
const IN_SENTENCE = /\b((?:[a-z-]+ )?code is|temporary password(?: is)?|password is)[ \t]+(\S+)/gi;
const SIX_DIGITS = /\b(\d{6})\b/;

/** The code a message carries, or undefined when it has none (welcome, reminder, deletion notices). */
export function codeIn(text: string): MessageCode | undefined {
  const labelled = LABELLED.exec(text);
  if (labelled) return { label: capitalise(labelled[1]!.trim()), value: labelled[2]! };
  const sentence = [...text.matchAll(IN_SENTENCE)].at(-1);
  if (sentence) {
    // A sentence may end right after the code (`… code is 123456.`); generated codes never end in a dot.
    const value = sentence[2]!.replace(/[.,;]$/, '');
    const label = /password/i.test(sentence[1]!) ? 'Temporary password' : capitalise(sentence[1]!.replace(/ is$/i, '').trim());
    return { label, value };
  }
  const digits = SIX_DIGITS.exec(text);
  return digits ? { label: 'Code', value: digits[1]! } : undefined;
}

// The templates put a message's link on a line of its own after its call to action (`Sign in to X: <url>`),
// and a magic link's secret is its fragment's `token`.
const MAGIC_LINK = /^[^\n:]{1,120}: (https?:\/\/[^\s#]+#token=[A-Za-z0-9._-]+)[ \t]*$/m;

/** The magic link a message carries, or undefined. */
export function linkIn(text: string): string | undefined {
  return MAGIC_LINK.exec(text)?.[1];
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
}

const VIA: Readonly<Record<StoredMessage['provider'], ConsoleMessage['via']>> = { sendgrid: 'SendGrid', twilio: 'Twilio', ses: 'SES' };

function toMessage(m: StoredMessage & { via?: ConsoleMessage['via'] }): ConsoleMessage {
  const via = m.via ?? VIA[m.provider];
  const link = linkIn(m.text);
  const code = link ? undefined : codeIn(m.text);
  return {
    id: `${via}:${m.id}`,
    via,
    channel: via === 'Twilio' || via === 'Cognito SMS' ? 'sms' : 'email',
    to: m.to,
    from: m.from,
    ...(m.subject !== undefined ? { subject: m.subject } : {}),
    text: m.text,
    at: m.at,
    ...(code ? { code } : {}),
    ...(link ? { link } : {}),
  };
}

function toLock(login: string, state: LockoutState, settings: ConsoleSources['lockout'], now: number): ConsoleLock {
  const windowOpen = state.windowStart + settings.windowSeconds * 1000 > now;
  return {
    login,
    attempts: windowOpen ? state.attempts : 0,
    maxAttempts: settings.maxAttempts,
    ...(state.lockedUntil > now ? { lockedUntil: new Date(state.lockedUntil).toISOString() } : {}),
    refused: state.refused,
  };
}

/** Every item of the table whose sort key is one of `sortKeys`, following pagination. */
async function scanItems(db: DocumentSender, tableName: string, sortKeys: readonly string[]): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: sortKeys.map((_, i) => `sk = :sk${i}`).join(' OR '),
        ExpressionAttributeValues: Object.fromEntries(sortKeys.map((sk, i) => [`:sk${i}`, sk])),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...((page.Items ?? []) as Array<Record<string, unknown>>));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

const attribute = (user: UserType, name: string) => user.Attributes?.find((a) => a.Name === name)?.Value;
const iso = (value: unknown) => (typeof value === 'number' ? new Date(value).toISOString() : typeof value === 'string' ? value : undefined);

/** The console's view of one execution; `userOf` names the user an input's username (the sub) belongs to. */
function toExecution(e: Execution, userOf: (username: string) => { name?: string; status?: string }, waitNext: ReadonlyMap<string, string>): ConsoleExecution {
  let username = '';
  try {
    username = String((JSON.parse(e.input) as { username?: unknown }).username ?? '');
  } catch {
    /* not JSON: StartExecution refuses such input, so only a test double gets here */
  }
  const state = [...e.states].reverse().find((s) => waitNext.has(s));
  const holding = e.status === 'RUNNING' && e.release !== undefined;
  const user = userOf(username);
  return {
    executionArn: e.executionArn,
    name: e.name,
    user: user.name ?? username,
    ...(user.status ? { userStatus: user.status } : {}),
    status: e.status,
    startedAt: e.startDate.toISOString(),
    ...(e.stopDate ? { stoppedAt: e.stopDate.toISOString() } : {}),
    states: [...e.states],
    ...(holding && state ? { waiting: { state, ...(waitNext.get(state) ? { next: waitNext.get(state)! } : {}), ...(e.holdUntil ? { until: e.holdUntil.toISOString() } : {}) } } : {}),
    ...(e.error ? { error: e.error } : {}),
    ...(e.cause ? { cause: e.cause } : {}),
  };
}

type AslStates = Record<string, { Type?: string; Next?: string; Seconds?: number }>;
const statesOf = (definition: string | undefined): AslStates => (definition ? ((JSON.parse(definition) as { States?: AslStates }).States ?? {}) : {});

/** Wait state -> the state it leads to, from an ASL definition. */
export function waitTransitions(definition: string | undefined): Map<string, string> {
  const result = new Map<string, string>();
  for (const [name, state] of Object.entries(statesOf(definition))) if (state.Type === 'Wait') result.set(name, state.Next ?? '');
  return result;
}

/**
 * The reminder workflow's two waits as rendered (statemachines/signup-reminder.asl.json): after sign-up
 * until the reminder, and after the reminder until the deletion. Undefined when the definition has neither.
 */
export function reminderWaits(definition: string | undefined): { reminderSeconds: number; deletionSeconds: number } | undefined {
  const states = statesOf(definition);
  const reminder = states.WaitBeforeReminder?.Seconds;
  const deletion = states.WaitBeforeDeletion?.Seconds;
  return reminder === undefined || deletion === undefined ? undefined : { reminderSeconds: reminder, deletionSeconds: deletion };
}

/**
 * Builds snapshots. It remembers who each user was, so an execution still names the person after the
 * workflow has deleted their account.
 */
export class ConsoleSnapshots {
  private readonly known = new Map<string, string>();
  private readonly waitNext: Map<string, string>;

  constructor(private readonly sources: ConsoleSources) {
    this.waitNext = waitTransitions(sources.definition);
  }

  async snapshot(): Promise<ConsoleState> {
    const s = this.sources;
    const now = (s.now ?? Date.now)();
    const pools: Array<{ pool: ConsoleUser['pool']; id: string }> = [{ pool: 'user', id: s.pools.user }, ...(s.pools.legacy ? [{ pool: 'legacy' as const, id: s.pools.legacy }] : [])];
    const [messages, listed, items] = await Promise.all([
      s.messages(),
      Promise.all(pools.map(async (p) => ({ ...p, users: (await s.cognito.send(new ListUsersCommand({ UserPoolId: p.id }))).Users ?? [] }))),
      scanItems(s.db, s.tableName, [LOCKOUT_SK, PROFILE_SK]),
    ]);
    const locks = new Map<string, LockoutState>();
    const profiles = new Map<string, Record<string, unknown>>();
    for (const item of items) {
      const pk = String(item.pk ?? '');
      if (item.sk === LOCKOUT_SK) {
        const state = parseLockoutState(item);
        if (state) locks.set(pk, state);
      } else if (pk.startsWith(ITEM_PREFIX.user)) profiles.set(subOfUserPartition(pk), item);
    }

    const lockKeysOfUsers = new Set<string>();
    const users: ConsoleUser[] = listed.flatMap(({ pool, users: list }) =>
      list.map((u): ConsoleUser => {
        const username = u.Username ?? '';
        const sub = attribute(u, 'sub');
        const email = attribute(u, 'email');
        const verified = attribute(u, 'email_verified');
        if (pool === 'user' && sub) this.known.set(sub, email ?? username);
        // The legacy pool has no triggers, so its users have no lock or profile of their own.
        const lockPk = pool === 'user' ? lockoutKey(lockoutLogin({ userName: username, email })).pk : undefined;
        const state = lockPk ? locks.get(lockPk) : undefined;
        if (lockPk) lockKeysOfUsers.add(lockPk);
        const profile = pool === 'user' && sub ? profiles.get(sub) : undefined;
        const lastSignInAt = iso(profile?.lastLoginAt);
        return {
          pool,
          username,
          ...(sub ? { sub } : {}),
          ...(email ? { email } : {}),
          ...(attribute(u, 'phone_number') ? { phoneNumber: attribute(u, 'phone_number')! } : {}),
          ...(attribute(u, 'name') ? { name: attribute(u, 'name')! } : {}),
          status: u.UserStatus ?? 'UNKNOWN',
          enabled: u.Enabled !== false,
          ...(verified !== undefined ? { emailVerified: verified === 'true' } : {}),
          ...(u.UserCreateDate ? { createdAt: new Date(u.UserCreateDate).toISOString() } : {}),
          ...(lastSignInAt ? { lastSignInAt } : {}),
          ...(typeof profile?.loginCount === 'number' ? { signIns: profile.loginCount } : {}),
          ...(state ? { lock: toLock(email ?? username, state, s.lockout, now) } : {}),
        };
      }),
    );
    users.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.username.localeCompare(b.username));
    const otherLogins = [...locks]
      .filter(([pk]) => !lockKeysOfUsers.has(pk))
      .map(([pk, state]) => toLock(loginKeyOfLockoutPartition(pk), state, s.lockout, now))
      .sort((a, b) => a.login.localeCompare(b.login));

    const statusOf = new Map(users.filter((u) => u.pool === 'user' && u.sub).map((u) => [u.sub!, u.status]));
    const executions = [...s.executions()].reverse().map((e) => toExecution(e, (username) => ({ name: this.known.get(username), status: statusOf.get(username) }), this.waitNext));
    return {
      generatedAt: new Date(now).toISOString(),
      info: s.info,
      // Newest first; messages stamped in the same instant keep the order they were delivered in, reversed.
      messages: messages
        .map((m, index) => ({ message: toMessage(m), index }))
        .sort((a, b) => b.message.at.localeCompare(a.message.at) || b.index - a.index)
        .map(({ message }) => message),
      users,
      otherLogins,
      executions,
    };
  }
}
