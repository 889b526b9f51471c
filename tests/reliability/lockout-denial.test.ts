/**
 * The price of a lockout keyed by login: an attacker with no account who knows an email can lock its
 * owner out. This measures how much, with the real counter (recordAttempt) against dynalite and a
 * virtual clock: the attacker returns one second after each lock ends and sends the attempts the next
 * lock takes. The figures are the share of the time the owner is locked, the longest single lock they
 * face, and what the attack costs in requests. docs/lockout.md quotes them.
 */
import { expect } from 'chai';
import type { LockoutSettings } from '../../functions/common/config.ts';
import { clearLockout } from '../../functions/common/lockout.ts';
import { recordAttempt } from '../../functions/pre-authentication/attempts.ts';
import { loadConfig } from '../../infra/config.ts';
import { record } from './lib/figures.ts';
import { startDynamo, type LocalDynamo } from './lib/services.ts';

const DAY_MS = 86_400_000;
/** How long the attacker takes to notice a lock has ended, and the gap between their requests. */
const REACTION_MS = 1_000;
const REQUEST_GAP_MS = 100;

function settingsOf(env: string): LockoutSettings {
  const { lockout } = loadConfig({ env: env ? { ENV: env } : {} });
  return { ...lockout };
}

interface Siege {
  /** Share of the horizon during which the owner's login was locked. */
  lockedShare: number;
  requests: number;
  locks: number;
  longestLockMs: number;
  /** Most requests in any window of `windowMs` (the WAF rate rule's window), to set against its limit. */
  peakInWindow: number;
}

/** The most timestamps in any half-open interval of `windowMs`. */
function peakIn(times: readonly number[], windowMs: number): number {
  let peak = 0;
  for (let start = 0, end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

describe('reliability: a targeted lockout by an attacker who returns at every lock end', function () {
  this.timeout(180_000);
  let dynamo: LocalDynamo;

  before(async () => {
    dynamo = await startDynamo('lockout-denial');
  });
  after(async () => dynamo?.stop());

  /** Runs the attack on `login` for `horizonMs` of virtual time. */
  const waf = loadConfig({ env: {} }).waf;

  async function siege(login: string, settings: LockoutSettings, horizonMs: number): Promise<Siege> {
    let now = 0;
    const deps = { db: dynamo.doc, tableName: dynamo.tableName, settings, now: () => now };
    let lockedMs = 0;
    let requests = 0;
    let locks = 0;
    let longestLockMs = 0;
    const times: number[] = [];
    while (now < horizonMs) {
      const outcome = await recordAttempt(deps, login);
      requests++;
      times.push(now);
      if (outcome.allowed) {
        now += REQUEST_GAP_MS;
        continue;
      }
      expect(outcome.reason, 'each burst ends by engaging a lock').to.equal('lock-engaged');
      const lockMs = outcome.retryAt - now;
      locks++;
      longestLockMs = Math.max(longestLockMs, lockMs);
      lockedMs += Math.min(outcome.retryAt, horizonMs) - now;
      now = outcome.retryAt + REACTION_MS;
    }
    return { lockedShare: lockedMs / horizonMs, requests, locks, longestLockMs, peakInWindow: peakIn(times, waf.windowSeconds * 1000) };
  }

  const percent = (share: number) => `${(share * 100).toFixed(2)}%`;
  const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

  for (const [label, env, days] of [
    ['prod (config/prod.json): escalating, capped at 15 minutes', 'prod', 3],
    ['defaults (config/default.json): 5-minute locks, no escalation', '', 1],
  ] as const) {
    it(`${label}: no lock longer than 15 minutes, and the attack costs a burst at every lock end`, async () => {
      const settings = settingsOf(env);
      const result = await siege(`victim-${env || 'default'}@gmail.com`, settings, days * DAY_MS);
      const perDay = Math.round(result.requests / days);
      record({
        id: `lockout-denial-${env || 'default'}`,
        area: 'lockout',
        scenario: `targeted lockout, ${label}`,
        load: `attacker with no account returns ${REACTION_MS / 1000} s after each lock ends with the ${settings.maxAttempts + 1} attempts a lock takes, for ${days} day(s) of virtual time`,
        expected: 'longest lock ≤ 15 min; the owner can be kept out only by an attack that never pauses',
        measured:
          `owner locked ${percent(result.lockedShare)} of the time; longest lock ${minutes(result.longestLockMs)}; ${result.locks} locks; ${result.requests} requests (${perDay} a day); ` +
          `at most ${result.peakInWindow} in any ${waf.windowSeconds / 60}-minute window, under the WAF sign-in limit of ${waf.signInLimit} per IP`,
        ok: result.longestLockMs <= 900_000,
      });
      expect(result.longestLockMs).to.be.at.most(900_000);
      // What the per-IP rule cannot do: the attack stays far below its limit from a single address.
      expect(result.peakInWindow).to.be.below(waf.signInLimit);
      // The trade-off stated plainly: a tireless attacker still keeps the owner out almost all the time.
      expect(result.lockedShare).to.be.greaterThan(0.99);
    });
  }

  /**
   * The same attacker, and an owner who is told of every lock and signs in once an hour. When a lock is in
   * force, the owner (who has the lock's email) resets the password: the reset clears the lock and the
   * counter (clearLockout, as post-confirmation does on PostConfirmation_ConfirmForgotPassword), and the
   * sign-in goes ahead; a successful sign-in clears the counter (as post-authentication does). Both run
   * on one virtual clock with the attacker's bursts.
   */
  async function siegeWithOwner(login: string, settings: LockoutSettings, horizonMs: number) {
    let now = 0;
    const deps = { db: dynamo.doc, tableName: dynamo.tableName, settings, now: () => now };
    let attackerAt = 0;
    let ownerAt = 30 * 60_000;
    let locks = 0;
    let signIns = 0;
    let resets = 0;
    let ownerAttempts = 0;
    const attackerTimes: number[] = [];
    while (Math.min(attackerAt, ownerAt) < horizonMs) {
      if (attackerAt <= ownerAt) {
        now = attackerAt;
        const outcome = await recordAttempt(deps, login);
        attackerTimes.push(now);
        if (outcome.allowed) attackerAt = now + REQUEST_GAP_MS;
        else {
          if (outcome.reason === 'lock-engaged') locks++;
          attackerAt = outcome.retryAt + REACTION_MS;
        }
        continue;
      }
      now = ownerAt;
      ownerAttempts++;
      let outcome = await recordAttempt(deps, login);
      if (!outcome.allowed) {
        resets++;
        await clearLockout(dynamo.doc, dynamo.tableName, login);
        ownerAttempts++;
        outcome = await recordAttempt(deps, login);
      }
      if (outcome.allowed) {
        signIns++;
        await clearLockout(dynamo.doc, dynamo.tableName, login);
      }
      ownerAt += 60 * 60_000;
    }
    return { locks, signIns, resets, ownerAttempts, attackerRequests: attackerTimes.length, peakInWindow: peakIn(attackerTimes, waf.windowSeconds * 1000) };
  }

  for (const [label, env] of [['prod', 'prod'], ['defaults', '']] as const) {
    it(`${label}, the owner told of each lock: every hourly sign-in succeeds, after a reset when a lock is in force, for one email per lock`, async () => {
      const settings = settingsOf(env);
      const result = await siegeWithOwner(`victim-told-${env || 'default'}@gmail.com`, settings, DAY_MS);
      const ok = result.signIns === 24 && result.peakInWindow < waf.signInLimit;
      record({
        id: `lockout-denial-owner-told-${env || 'default'}`,
        area: 'lockout',
        scenario: `targeted lockout, ${label}, with the owner told of each lock (notify-lockout) and resetting the password when locked`,
        load: `the same attacker for 1 day of virtual time; the owner signs in once an hour, and resets the password when the sign-in is refused`,
        expected: 'every one of the owner\'s 24 sign-ins succeeds; the price is one email per lock, and a reset whenever the attacker holds a lock',
        measured:
          `${result.signIns} of 24 sign-ins succeeded, ${result.resets} of them after a reset; ${result.locks} locks, so ${result.locks} emails to the owner in the day; ` +
          `attacker: ${result.attackerRequests} requests, at most ${result.peakInWindow} in any ${waf.windowSeconds / 60}-minute window, under the WAF sign-in limit of ${waf.signInLimit} per IP`,
        ok,
      });
      expect(result.signIns, 'owner sign-ins').to.equal(24);
      expect(result.resets, 'the attacker held a lock at most of the owner\'s sign-ins').to.be.greaterThan(12);
      expect(result.peakInWindow).to.be.below(waf.signInLimit);
    });
  }

  for (const mode of ['double', 'lock'] as const) {
    it(`prod with the quick-login check (${mode}): the same lockout for fewer requests, since the attacker's burst is quick`, async () => {
      const plain = await siege(`victim-plain-${mode}@gmail.com`, settingsOf('prod'), DAY_MS);
      const settings: LockoutSettings = { ...settingsOf('prod'), quickLogin: { mode, minIntervalMilliseconds: 1_000 } };
      const result = await siege(`victim-quick-${mode}@gmail.com`, settings, DAY_MS);
      record({
        id: `lockout-denial-quick-login-${mode}`,
        area: 'lockout',
        scenario: `targeted lockout, prod with the quick-login check (${mode}, 1 s interval)`,
        load: `the same attacker, bursts ${REQUEST_GAP_MS} ms apart, 1 day of virtual time`,
        expected: 'the owner is locked as long as without the check; the attack is cheaper, so the check is off by default',
        measured: `owner locked ${percent(result.lockedShare)} of the time with ${result.requests} requests, against ${percent(plain.lockedShare)} with ${plain.requests} without the check (${(plain.requests / result.requests).toFixed(1)}× as many)`,
        ok: result.requests < plain.requests && result.longestLockMs <= 900_000,
      });
      expect(result.requests).to.be.below(plain.requests);
      expect(result.longestLockMs).to.be.at.most(900_000);
    });
  }

  it('for comparison, the earlier prod setting (24-hour cap) kept the owner out for a week with under 200 requests', async () => {
    const settings = { ...settingsOf('prod'), maxLockSeconds: 86_400 };
    const result = await siege('victim-before@gmail.com', settings, 7 * DAY_MS);
    record({
      id: 'lockout-denial-24h-cap',
      area: 'lockout',
      scenario: 'targeted lockout, the earlier prod setting (escalating, capped at 24 hours), for comparison',
      load: `same attacker, 7 days of virtual time`,
      expected: 'the cost the 15-minute cap raises: few requests, locks of hours',
      measured: `owner locked ${percent(result.lockedShare)} of the time; longest lock ${minutes(result.longestLockMs)}; ${result.requests} requests in 7 days`,
      ok: result.longestLockMs > 900_000,
    });
    expect(result.longestLockMs).to.equal(86_400_000);
    expect(result.requests).to.be.below(200);
  });
});
