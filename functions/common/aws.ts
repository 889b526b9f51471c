/**
 * Settings shared by every AWS SDK client the functions build: keep-alive connections and the
 * timeouts and attempts of a {@link ClientBudget} (functions/common/budgets.ts). Clients are created
 * once per cold start by the caller.
 */
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:https';
import type { ClientBudget } from './budgets.ts';

export { BACKGROUND_BUDGET, SYNC_TRIGGER_BUDGET, type ClientBudget } from './budgets.ts';

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
