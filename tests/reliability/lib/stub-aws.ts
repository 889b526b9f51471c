/**
 * A stand-in AWS endpoint for services with no local emulator in the suite: answers each AWS JSON
 * operation (by X-Amz-Target) with a canned result or a real AWS error shape, which the real SDK then
 * deserializes into its own classes.
 */
import { awsJsonError, startFaultProxy, type FaultProxy, type ProxiedRequest, type ProxyAction } from './net.ts';

export type StubAnswer = (input: Record<string, unknown>, request: ProxiedRequest) => ProxyAction | Record<string, unknown>;

/** Starts a stub answering `operations` (e.g. `StartExecution`); anything else is an UnknownOperationException. */
export async function startStubAws(operations: Record<string, StubAnswer>): Promise<FaultProxy> {
  // The upstream is never used: every request is answered by the policy.
  const stub = await startFaultProxy('http://127.0.0.1:9');
  stub.policy = (request) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const op = target.slice(target.lastIndexOf('.') + 1);
    const answer = operations[op];
    if (!answer) return awsJsonError('UnknownOperationException', 400, `stub does not implement ${op}`);
    let input: Record<string, unknown> = {};
    try {
      input = JSON.parse(request.body || '{}') as Record<string, unknown>;
    } catch {
      // Not JSON: the operation sees an empty input.
    }
    const out = answer(input, request);
    if ('kind' in out && typeof out.kind === 'string') return out as ProxyAction;
    return { kind: 'respond', status: 200, body: JSON.stringify(out) };
  };
  return stub;
}
