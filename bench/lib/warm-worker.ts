/**
 * Child process for the warm benchmark: loads one bundle (its own environment points every remote
 * call at the stub server), invokes its handler many times with the same event and reports each
 * invocation's duration. Runs in its own process so each function gets a clean module scope and
 * exactly its own environment, like a Lambda execution environment. Its stdout (the function's
 * log lines) goes to /dev/null: writing them is part of the measured cost, reading them is not.
 */
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { lambdaContext } from './cold-child.cjs';

/** What the parent asks for. */
export interface WarmRequest {
  readonly bundle: string;
  readonly functionName: string;
  readonly event: unknown;
  readonly warmup: number;
  readonly invocations: number;
  readonly stubUrl: string;
}

/** What the worker answers. */
export interface WarmReply {
  /** Duration of the first invocation after load (connections opened, lazy imports paid). */
  readonly firstMs: number;
  /** Durations of the timed invocations, milliseconds. */
  readonly samples: number[];
  /** Error names thrown by the handler, with counts; empty on the success path. */
  readonly errors: Record<string, number>;
  /** Median of plain keep-alive HTTP round trips to the stub from this process: the I/O floor. */
  readonly loopbackMs: number;
  /** The handler's response to the last invocation, for a sanity check by the parent. */
  readonly lastResult: unknown;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

async function loopbackFloor(stubUrl: string, count: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const req = request(`${stubUrl}/ping`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  agent.destroy();
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

async function measure(req: WarmRequest): Promise<WarmReply> {
  const load = createRequire(req.bundle);
  const { handler } = load(req.bundle) as { handler: Handler };
  const errors: Record<string, number> = {};
  let lastResult: unknown;
  const invoke = async (): Promise<number> => {
    const event = structuredClone(req.event);
    const context = lambdaContext(req.functionName);
    const started = process.hrtime.bigint();
    try {
      lastResult = await handler(event, context);
    } catch (error) {
      const name = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 160) : typeof error;
      errors[name] = (errors[name] ?? 0) + 1;
    }
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const firstMs = await invoke();
  for (let i = 0; i < req.warmup; i++) await invoke();
  const samples: number[] = [];
  for (let i = 0; i < req.invocations; i++) samples.push(await invoke());
  const loopbackMs = await loopbackFloor(req.stubUrl, 200);
  return { firstMs, samples, errors, loopbackMs, lastResult };
}

process.once('message', (req: WarmRequest) => {
  measure(req).then(
    (reply) => process.send!(reply, () => process.exit(0)),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
});
