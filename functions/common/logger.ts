/**
 * One structured JSON logger per function, built at module scope.
 *
 * Rules every caller follows: never log an event, a password, a code (plain or encrypted), a token,
 * a secret or an API key. Log identifiers through {@link fingerprint} and domains rather than addresses.
 */
import { Console } from 'node:console';
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';

/** The console methods Powertools' Logger writes its lines with: one per level, named as the level (CRITICAL's is `error`). */
export type LogSink = Pick<Console, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'log'>;

/**
 * A sink that writes each line as Powertools' own console does (TRACE to INFO on stdout, WARN and above
 * on stderr, each through a `node:console` Console, which keeps a failing stream from throwing), but
 * creates each stream's Console on that stream's first line. Powertools builds its Console in the
 * Logger's constructor, which makes Node create `process.stdout` and `process.stderr` at load; when
 * stderr is a pipe that costs 1.2–5 ms of CPU on a cold start (docs/performance.md), and a cold path
 * that logs no warning never writes to it.
 */
export function lazyConsoleSink(streams: { stdout(): NodeJS.WritableStream; stderr(): NodeJS.WritableStream } = {
  stdout: () => process.stdout,
  stderr: () => process.stderr,
}): LogSink {
  let out: Console | undefined;
  let err: Console | undefined;
  const stdout = (line: unknown) => (out ??= new Console({ stdout: streams.stdout() })).log(line);
  const stderr = (line: unknown) => (err ??= new Console({ stdout: streams.stderr() })).log(line);
  // Powertools passes each line as one string; Console.log formats a lone string as itself.
  return { trace: stdout, debug: stdout, info: stdout, log: stdout, warn: stderr, error: stderr };
}

/**
 * Powertools' Logger, writing through {@link lazyConsoleSink}; everything else is Powertools' own.
 * Its constructor picks the console by calling `setConsole` (through `setOptions`), which Powertools
 * declares private, so the subclass replaces that method on its prototype rather than declaring an
 * override. tests/functions/common/logger.test.ts fails if a Powertools release renames it.
 */
class LambdaLogger extends Logger {
  static {
    Object.defineProperty(this.prototype, 'setConsole', {
      value: function setConsole(this: { console: LogSink }): void {
        this.console = lazyConsoleSink();
      },
      configurable: true,
      writable: true,
    });
  }
}

/** The function's logger; service name and level come from POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL. */
export const logger: Logger = new LambdaLogger({ logRecordOrder: ['timestamp', 'level', 'service', 'message'] });

/**
 * A short, stable pseudonym for a personal value (the first 64 bits of an unkeyed SHA-256 of the value,
 * trimmed and lower-cased), so that log lines about the same user can be joined without the value itself
 * appearing. It is not a secret: anyone who can guess the value can compute it and confirm the guess.
 * docs/functions.md ("Log fingerprints") says what it protects against, and why it is not keyed.
 */
export function fingerprint(value: string): string {
  return createHash('sha256').update(value.trim().toLowerCase()).digest('hex').slice(0, 16);
}

/** The domain part of an email address, which is safe to log; `undefined` when there is none. */
export function emailDomain(email: string | undefined): string | undefined {
  if (!email) return undefined;
  const at = email.lastIndexOf('@');
  return at < 0 ? undefined : email.slice(at + 1).toLowerCase();
}
