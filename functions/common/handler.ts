/**
 * The one wrapper every function's handler goes through, for the steps that cross every function (in the
 * middleware style of Powertools and middy):
 * - the Lambda context on every log line (`logger.addContext`), when Lambda passes one;
 * - a correlation id: for Cognito triggers the fingerprint of the event's `userName`, so one user's lines
 *   join across functions without the name itself appearing;
 * - for synchronous triggers, errors made safe to show (Cognito shows the message to the end user): a
 *   {@link UserFacingError} passes unchanged, anything else becomes the generic one and is logged by name.
 *
 * Asynchronous triggers and tasks rethrow what they throw: Lambda, the state machine or the event source
 * mapping retries by it, and nobody shows it to a user. Idempotency goes through the one store
 * (./idempotency.ts), registered with the context by each idempotent sender.
 */
import type { Context } from 'aws-lambda';
import type { FunctionKind } from '../catalog.ts';
import { errorName, toPublicError } from './errors.ts';
import { fingerprint, logger } from './logger.ts';

/** How {@link lambdaHandler} wraps one function. */
export interface HandlerOptions<E> {
  /** The catalog kind; decides whether errors are turned into user-facing ones and the default correlation id. */
  readonly kind: FunctionKind;
  /**
   * The ERROR line for a failure of a synchronous trigger. Without it the logic logs its own failures.
   * By default only unexpected failures (reason `internal`) are logged here: a refusal is logged, at
   * WARN, where it is decided, and only the unexpected should fire the ERROR alarm.
   */
  readonly failure?: { readonly message: string; readonly includeRefusals?: boolean };
  /** The correlation id of an event; defaults to the `userName` fingerprint for Cognito triggers, none for tasks. */
  readonly correlationId?: (event: E) => string | undefined;
}

const isCognitoTrigger = (kind: FunctionKind): boolean => kind === 'sync-trigger' || kind === 'async-trigger';

function defaultCorrelationId(event: unknown): string {
  return fingerprint(String((event as { userName?: unknown } | null | undefined)?.userName ?? ''));
}

/**
 * Wraps a function's logic into its Lambda handler. The logic receives the event and the context (absent
 * when a test calls the handler without one).
 */
export function lambdaHandler<E, R>(
  options: HandlerOptions<E>,
  logic: (event: E, context: Context | undefined) => Promise<R> | R,
): (event: E, context?: Context) => Promise<R> {
  const correlationId = options.correlationId ?? (isCognitoTrigger(options.kind) ? defaultCorrelationId : undefined);
  return async (event, context) => {
    if (context) logger.addContext(context);
    if (correlationId) {
      const id = correlationId(event);
      if (id !== undefined) logger.setCorrelationId(id);
    }
    if (options.kind !== 'sync-trigger') return logic(event, context);
    try {
      return await logic(event, context);
    } catch (error) {
      const publicError = toPublicError(error);
      const failure = options.failure;
      if (failure && (failure.includeRefusals || publicError.reason === 'internal')) {
        logger.error(failure.message, { errorName: errorName(error), ...(failure.includeRefusals ? { reason: publicError.reason } : {}) });
      }
      throw publicError;
    }
  };
}
