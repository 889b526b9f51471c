/**
 * Settings shared by every AWS SDK client the functions build.
 *
 * Cognito abandons a synchronous trigger after 5 s, so each client gets short connection and request
 * timeouts and a small, deliberate number of attempts: the worst case of all retries of one call must
 * still fit well inside that budget. Clients are created once per cold start by the caller.
 */
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:https';

/** Timeouts and retries for one client. */
export interface ClientBudget {
  /** Time to open a TCP/TLS connection. */
  readonly connectionTimeoutMs: number;
  /** Time for one request once connected. */
  readonly requestTimeoutMs: number;
  /** Total attempts including the first. */
  readonly maxAttempts: number;
}

/** For calls on a synchronous trigger's path: at most 2 × (0.5 + 1) s = 3 s plus backoff in the worst case. */
export const SYNC_TRIGGER_BUDGET: ClientBudget = { connectionTimeoutMs: 500, requestTimeoutMs: 1_000, maxAttempts: 2 };

/** For asynchronous senders and workflow tasks, which Lambda or Step Functions retry anyway. */
export const BACKGROUND_BUDGET: ClientBudget = { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 3 };

/** Client configuration with keep-alive connections and the given budget. */
export function clientConfig(budget: ClientBudget): { requestHandler: NodeHttpHandler; maxAttempts: number } {
  return {
    requestHandler: new NodeHttpHandler({
      connectionTimeout: budget.connectionTimeoutMs,
      requestTimeout: budget.requestTimeoutMs,
      // Without this the handler only logs a warning when requestTimeout passes and keeps waiting,
      // so a hung dependency would hold a trigger past Cognito's 5 s.
      throwOnRequestTimeout: true,
      httpsAgent: new Agent({ keepAlive: true, maxSockets: 50 }),
    }),
    maxAttempts: budget.maxAttempts,
  };
}
