/**
 * The local Lambda service: `POST /2015-03-31/functions/{name}/invocations`, served from the real
 * bundles in dist/.
 *
 * Each function runs in its own execution environments: child processes started on the Lambda
 * runtime's Node.js (./node.ts), holding only the environment Terraform gives the function plus what
 * the Lambda runtime itself sets (region, credentials, function name...). An environment runs one invocation at
 * a time; concurrent invocations start more environments, up to a limit. A function error comes back
 * as HTTP 200 with `X-Amz-Function-Error: Unhandled`, and a timeout kills the environment, as Lambda does.
 * `InvocationType: Event` returns 202 at once and retries a failed run twice, like Lambda's async invoke.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { transformSync } from 'esbuild';
import { bodyServer, delay, listen, sendJson, type Listening } from '../lib/http.ts';
import type { StackFunction } from '../stack.ts';
import { LAMBDA_RUNTIME } from '../../functions/runtime.ts';
import { lambdaNode } from './node.ts';

/** One line a function wrote to stdout or stderr. */
export interface LogLine {
  readonly function: string;
  readonly at: number;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

/** The outcome of one invocation, as the Invoke API reports it. */
export interface InvokeResult {
  readonly statusCode: number;
  readonly functionError?: 'Unhandled';
  readonly payload: unknown;
}

/** A record of one invocation, for tests and the reliability suite. */
export interface InvocationRecord {
  readonly function: string;
  readonly requestId: string;
  readonly type: 'RequestResponse' | 'Event';
  readonly startedAt: number;
  durationMs?: number;
  error?: string;
  coldStart: boolean;
}

export interface LambdaHostOptions {
  readonly functions: readonly StackFunction[];
  /** dist/ folder holding `<name>/index.js`. */
  readonly distDir: string;
  readonly region: string;
  readonly accountId: string;
  /** Variables every function gets on top of its own (endpoints, credentials). */
  readonly commonEnvironment: Readonly<Record<string, string>>;
  /** Changes a function's environment just before an environment starts (fault injection). */
  readonly environmentOverride?: (name: string, env: Record<string, string>) => Record<string, string>;
  readonly port?: number;
  /** Execution environments per function. Default 4. */
  readonly maxEnvironmentsPerFunction?: number;
  /** Pauses before the async retries; Lambda waits about 1 and 2 minutes. Default [200, 400]. */
  readonly asyncRetryDelaysMs?: readonly number[];
  readonly onLog?: (line: LogLine) => void;
  /** Told of every environment started, so the owner can kill it if the process exits abruptly. */
  readonly onSpawn?: (child: ChildProcess) => void;
}

interface Environment {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  busy: boolean;
  used: boolean;
  dead: boolean;
  pending?: { id: number; resolve: (r: { result?: unknown; error?: unknown; initFailed?: boolean }) => void };
}

interface FunctionState {
  readonly spec: StackFunction;
  readonly environments: Environment[];
  readonly waiting: Array<() => void>;
}

let runtimeSource: string | undefined;
function runtimeCode(): string {
  runtimeSource ??= transformSync(readFileSync(path.join(import.meta.dirname, 'runtime.ts'), 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
  }).code;
  return runtimeSource;
}

/** The local Lambda service. */
export class LambdaHost {
  private readonly states = new Map<string, FunctionState>();
  private readonly aliases = new Map<string, string>();
  private listening?: Listening;
  private nextId = 1;
  private stopped = false;
  private readonly inflightAsync = new Set<Promise<void>>();
  readonly logs: LogLine[] = [];
  readonly invocations: InvocationRecord[] = [];

  constructor(private readonly options: LambdaHostOptions) {
    for (const spec of options.functions) {
      const bundle = path.join(options.distDir, spec.name, 'index.js');
      if (!existsSync(bundle)) throw new Error(`Bundle ${bundle} is missing; run \`make build\` first`);
      this.states.set(spec.functionName, { spec, environments: [], waiting: [] });
      for (const alias of [spec.functionName, spec.arn, `${spec.arn}:$LATEST`, spec.name]) this.aliases.set(alias, spec.functionName);
    }
  }

  get url(): string {
    if (!this.listening) throw new Error('Lambda host not started');
    return this.listening.url;
  }

  /** Deployed function name for a name, ARN or catalog name. */
  resolve(nameOrArn: string): string | undefined {
    return this.aliases.get(nameOrArn) ?? this.aliases.get(decodeURIComponent(nameOrArn));
  }

  async start(): Promise<void> {
    const server = bodyServer(async (req, res, body) => {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?(\?.*)?$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) {
        sendJson(res, 404, { Type: 'User', message: `Unknown path ${req.method} ${req.url}` }, { 'x-amzn-errortype': 'UnknownOperationException' });
        return;
      }
      const name = this.resolve(decodeURIComponent(m[1]!));
      if (!name) {
        sendJson(res, 404, { Type: 'User', message: `Function not found: ${decodeURIComponent(m[1]!)}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
        return;
      }
      let event: unknown = null;
      try {
        event = body.length ? JSON.parse(body.toString('utf8')) : {};
      } catch {
        sendJson(res, 400, { Type: 'User', message: 'Could not parse request body into json' }, { 'x-amzn-errortype': 'InvalidRequestContentException' });
        return;
      }
      const type = req.headers['x-amz-invocation-type'] === 'Event' ? 'Event' : 'RequestResponse';
      const requestId = randomUUID();
      if (type === 'Event') {
        this.invokeAsync(name, event);
        res.writeHead(202, { 'x-amzn-requestid': requestId, 'content-length': 0 });
        res.end();
        return;
      }
      const result = await this.invoke(name, event);
      const text = JSON.stringify(result.payload);
      res.writeHead(result.statusCode, {
        'content-type': 'application/json',
        'x-amzn-requestid': requestId,
        'x-amz-executed-version': '$LATEST',
        ...(result.functionError ? { 'x-amz-function-error': result.functionError } : {}),
      });
      res.end(text);
    });
    this.listening = await listen(server, this.options.port ?? 0);
  }

  /** Starts one environment per function ahead of the first call, so the first sign-up is not slow. */
  async prewarm(): Promise<void> {
    await Promise.all([...this.states.values()].map(async (state) => {
      if (state.environments.length === 0) await this.spawn(state).ready;
    }));
  }

  /** Invokes synchronously (RequestResponse). */
  async invoke(nameOrArn: string, event: unknown, type: 'RequestResponse' | 'Event' = 'RequestResponse'): Promise<InvokeResult> {
    const name = this.resolve(nameOrArn);
    const state = name ? this.states.get(name) : undefined;
    if (!state) return { statusCode: 404, payload: { Type: 'User', message: `Function not found: ${nameOrArn}` } };
    const env = await this.acquire(state);
    const requestId = randomUUID();
    const record: InvocationRecord = { function: state.spec.name, requestId, type, startedAt: Date.now(), coldStart: !env.used };
    this.invocations.push(record);
    env.used = true;
    const timeoutMs = state.spec.timeoutSeconds * 1000;
    try {
      // Lambda gives up on an environment whose init does not finish within 10 s.
      const ready = await Promise.race([env.ready.then(() => true), delay(10_000).then(() => false)]);
      if (!ready) {
        this.kill(state, env);
        record.error = 'Runtime.InitTimeout';
        return { statusCode: 200, functionError: 'Unhandled', payload: { errorType: 'Runtime.InitTimeout', errorMessage: 'The function did not finish initialising within 10 seconds' } };
      }
      const id = this.nextId++;
      const outcome = await new Promise<{ result?: unknown; error?: unknown; initFailed?: boolean; timedOut?: boolean }>((resolve) => {
        env.pending = { id, resolve };
        const timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
        env.pending.resolve = (r) => {
          clearTimeout(timer);
          resolve(r);
        };
        env.child.send({ type: 'invoke', id, event, requestId, deadline: Date.now() + timeoutMs });
      });
      env.pending = undefined;
      record.durationMs = Date.now() - record.startedAt;
      if (outcome.timedOut) {
        this.kill(state, env);
        record.error = 'Sandbox.Timedout';
        return {
          statusCode: 200,
          functionError: 'Unhandled',
          payload: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${state.spec.timeoutSeconds.toFixed(2)} seconds` },
        };
      }
      if (outcome.initFailed) this.kill(state, env);
      if (outcome.error !== undefined) {
        const payload = (outcome.error ?? { errorType: 'Runtime.ExitError', errorMessage: 'RequestId: ' + requestId + ' Error: Runtime exited' }) as { errorType?: string };
        record.error = payload.errorType ?? 'Error';
        return { statusCode: 200, functionError: 'Unhandled', payload };
      }
      return { statusCode: 200, payload: outcome.result ?? null };
    } finally {
      this.release(state, env);
    }
  }

  /** Invokes asynchronously (Event): runs in the background, retrying a failure twice. */
  invokeAsync(nameOrArn: string, event: unknown): void {
    const run = (async () => {
      const delays = this.options.asyncRetryDelaysMs ?? [200, 400];
      for (let attempt = 0; attempt <= delays.length && !this.stopped; attempt++) {
        if (attempt > 0) await delay(delays[attempt - 1]!);
        if (this.stopped) return;
        const result = await this.invoke(nameOrArn, event, 'Event');
        if (!result.functionError && result.statusCode < 300) return;
      }
    })().catch(() => undefined);
    this.inflightAsync.add(run);
    void run.finally(() => this.inflightAsync.delete(run));
  }

  /** Resolves when no async invocation (and its retries) is still running. */
  async settle(): Promise<void> {
    while (this.inflightAsync.size > 0) await Promise.all([...this.inflightAsync]);
  }

  private environmentFor(spec: StackFunction): Record<string, string> {
    const o = this.options;
    const env: Record<string, string> = {
      // What the Lambda runtime sets for every function.
      AWS_REGION: o.region,
      AWS_DEFAULT_REGION: o.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${LAMBDA_RUNTIME}`,
      AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `sandbox/${randomUUID()}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      LAMBDA_TASK_ROOT: path.join(o.distDir, spec.name),
      _HANDLER: 'index.handler',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      NODE_ENV: 'production',
      SANDBOX_FUNCTION_ARN: spec.arn,
      ...o.commonEnvironment,
      // What Terraform sets; it wins over nothing above except by name collision, which the contract forbids.
      ...spec.environment,
    };
    return o.environmentOverride ? o.environmentOverride(spec.name, env) : env;
  }

  private spawn(state: FunctionState): Environment {
    const child = spawn(lambdaNode(), ['--enable-source-maps', '-e', runtimeCode()], {
      env: this.environmentFor(state.spec),
      cwd: path.join(this.options.distDir, state.spec.name),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.options.onSpawn?.(child);
    let readyResolve!: () => void;
    const env: Environment = {
      child,
      ready: new Promise<void>((resolve) => (readyResolve = resolve)),
      busy: false,
      used: false,
      dead: false,
    };
    const capture = (stream: 'stdout' | 'stderr') => {
      let buffered = '';
      child[stream]!.setEncoding('utf8');
      child[stream]!.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim() === '') continue;
          const entry: LogLine = { function: state.spec.name, at: Date.now(), stream, line };
          this.logs.push(entry);
          this.options.onLog?.(entry);
        }
      });
    };
    capture('stdout');
    capture('stderr');
    child.on('message', (raw: unknown) => {
      const message = raw as { type: string; id?: number; result?: unknown; error?: unknown; initFailed?: boolean };
      if (message.type === 'ready') readyResolve();
      else if (message.type === 'result' && env.pending && env.pending.id === message.id) env.pending.resolve(message);
    });
    child.on('exit', () => {
      env.dead = true;
      readyResolve();
      env.pending?.resolve({ error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited without providing a reason' } });
      const i = state.environments.indexOf(env);
      if (i >= 0) state.environments.splice(i, 1);
      state.waiting.shift()?.();
    });
    state.environments.push(env);
    return env;
  }

  private async acquire(state: FunctionState): Promise<Environment> {
    for (;;) {
      if (this.stopped) throw new Error('Lambda host stopped');
      const idle = state.environments.find((e) => !e.busy && !e.dead);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (state.environments.length < (this.options.maxEnvironmentsPerFunction ?? 4)) {
        const env = this.spawn(state);
        env.busy = true;
        return env;
      }
      await new Promise<void>((resolve) => state.waiting.push(resolve));
    }
  }

  private release(state: FunctionState, env: Environment): void {
    env.busy = false;
    state.waiting.shift()?.();
  }

  private kill(state: FunctionState, env: Environment): void {
    env.dead = true;
    env.child.kill('SIGKILL');
    const i = state.environments.indexOf(env);
    if (i >= 0) state.environments.splice(i, 1);
  }

  /** Every child process id, for leak checks. */
  pids(): number[] {
    return [...this.states.values()].flatMap((s) => s.environments.map((e) => e.child.pid).filter((p): p is number => !!p));
  }

  /** Kills every environment and stops serving. */
  async stop(): Promise<void> {
    this.stopped = true;
    const exits: Promise<void>[] = [];
    for (const state of this.states.values()) {
      for (const env of [...state.environments]) {
        if (env.child.exitCode === null && env.child.signalCode === null) {
          exits.push(new Promise<void>((resolve) => env.child.once('exit', () => resolve())));
          env.child.kill('SIGKILL');
        }
      }
      for (const w of state.waiting.splice(0)) w();
    }
    await Promise.all(exits);
    await this.listening?.close();
  }
}
