/**
 * How long one AWS call may take, shared by the SDK clients (functions/common/aws.ts) and the
 * synchronous triggers' own client (functions/common/aws-json.ts).
 *
 * Cognito abandons a synchronous trigger after 5 s, so each client gets short connection and request
 * timeouts and a small, deliberate number of attempts: the worst case of all retries of one call must
 * still fit well inside that budget. Kept apart from the SDK settings so that a bundle can read the
 * budgets without loading the SDK's HTTP handler.
 */

/** Timeouts and retries for one client. */
export interface ClientBudget {
  /** Time to open a TCP connection, from the start of the request. */
  readonly connectionTimeoutMs: number;
  /** Time for one request, from its start until the answer is in. */
  readonly requestTimeoutMs: number;
  /** Total attempts including the first. */
  readonly maxAttempts: number;
}

/** For calls on a synchronous trigger's path: at most 2 × (0.5 + 1) s = 3 s plus backoff in the worst case. */
export const SYNC_TRIGGER_BUDGET: ClientBudget = { connectionTimeoutMs: 500, requestTimeoutMs: 1_000, maxAttempts: 2 };

/** For asynchronous senders and workflow tasks, which Lambda or Step Functions retry anyway. */
export const BACKGROUND_BUDGET: ClientBudget = { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 3 };
