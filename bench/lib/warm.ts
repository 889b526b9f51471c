/** Runs the warm-latency worker for one function and summarises what it reports. */
import { fork } from 'node:child_process';
import path from 'node:path';
import type { FunctionName } from '../../functions/catalog.ts';
import { lambdaNode } from '../../sandbox/lambda/node.ts';
import { functionEnv } from './env.ts';
import { quantile, round } from './stats.ts';
import type { StubServer } from './stub-server.ts';
import type { WarmReply, WarmRequest } from './warm-worker.ts';

export interface WarmResult {
  readonly invocations: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly firstInvocationMs: number;
  /** Median keep-alive round trip to the stub: the part of each remote call that is not our code. */
  readonly loopbackRoundTripMs: number;
  /** Remote calls per invocation, by operation, as the stub counted them. */
  readonly callsPerInvocation: Record<string, number>;
  /** Handler errors by name; non-empty means the figures are for an error path. */
  readonly errors: Record<string, number>;
  /** Requests the stub could not answer. */
  readonly unknownCalls: string[];
}

const WORKER = path.join(import.meta.dirname, 'warm-worker.ts');

/** Invokes `bundle`'s handler `invocations` times in a fresh process, with all I/O answered by `stub`. */
export async function measureWarm(
  name: FunctionName,
  bundle: string,
  event: unknown,
  stub: StubServer,
  invocations: number,
): Promise<WarmResult> {
  stub.resetCounts();
  const warmup = Math.min(100, Math.max(5, Math.floor(invocations / 10)));
  const child = fork(WORKER, [], {
    // The Lambda runtime's Node.js, as for the cold starts.
    execPath: lambdaNode(),
    // tsx by absolute URL: the worker runs in the bundle's directory, where no node_modules exist.
    execArgv: ['--import', import.meta.resolve('tsx')],
    env: functionEnv(name, stub.url),
    cwd: path.dirname(bundle),
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const reply = await new Promise<WarmReply>((resolve, reject) => {
    let answer: WarmReply | undefined;
    child.once('message', (m) => (answer = m as WarmReply));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (answer && code === 0) resolve(answer);
      else reject(new Error(`warm worker for ${name} exited ${code}: ${stderr.trim().slice(-1500)}`));
    });
    const request: WarmRequest = { bundle, functionName: name, event, warmup, invocations, stubUrl: stub.url };
    child.send(request);
  });
  const total = 1 + warmup + invocations;
  const callsPerInvocation: Record<string, number> = {};
  for (const [op, count] of stub.calls) {
    if (op === 'GET /ping') continue;
    callsPerInvocation[op] = round(count / total, 3);
  }
  return {
    invocations,
    p50Ms: round(quantile(reply.samples, 0.5), 3),
    p99Ms: round(quantile(reply.samples, 0.99), 3),
    maxMs: round(Math.max(...reply.samples), 3),
    firstInvocationMs: round(reply.firstMs, 3),
    loopbackRoundTripMs: round(reply.loopbackMs, 3),
    callsPerInvocation,
    errors: reply.errors,
    unknownCalls: [...new Set(stub.unknown)],
  };
}
