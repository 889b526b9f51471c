/**
 * A Step Functions stand-in (StartExecution, DescribeExecution, ListExecutions, StopExecution) that
 * runs the real rendered state machine definition with `aws-local-stepfunctions`.
 *
 * Task resources (Lambda ARNs) are invoked on the local Lambda host, and a function error surfaces
 * under its `errorType`, so the definition's Retry and Catch rules apply as in AWS.
 *
 * Wait states: the library sleeps with a plain timer, which cannot be cut short. So the sandbox runs
 * every Wait state as zero-length and holds the pending wait in front of the execution's next Task
 * instead. Nothing observable differs (the task runs after the wait), and the wait becomes
 * controllable: `waits: 'asl'` waits the definition's seconds times `waitScale`, `waits: 'manual'`
 * waits until {@link LocalStepFunctions.fastForward} releases it, which demos and tests use.
 */
import { createHash } from 'node:crypto';
import { AwsError, awsJsonHandler, bodyServer, listen, type Listening } from './lib/http.ts';

// aws-local-stepfunctions targets Node 22; this is the one API it uses that Node 20 lacks.
const promiseCtor = Promise as unknown as { withResolvers?: unknown };
if (typeof promiseCtor.withResolvers !== 'function') {
  promiseCtor.withResolvers = function withResolvers<T>() {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

/** How the sandbox invokes a task's Lambda function. */
export type TaskInvoker = (functionArn: string, input: unknown) => Promise<{ functionError?: string; payload: unknown }>;

export interface Execution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  /** States entered, in order, for tests. */
  readonly states: string[];
  /** Seconds of wait the execution currently holds before its next task (0 when none). */
  pendingWaitSeconds: number;
  /** When the wait it is holding ends on its own (`waits: 'asl'`); undefined when not holding or when waits are manual. */
  holdUntil?: Date;
  release?: () => void;
}

export interface LocalStepFunctionsOptions {
  readonly stateMachines: ReadonlyArray<{ arn: string; name: string; definition: string }>;
  readonly invoke: TaskInvoker;
  /** `asl`: wait the definition's seconds × waitScale; `manual`: wait for fastForward(). Default `asl`. */
  readonly waits?: 'asl' | 'manual';
  readonly waitScale?: number;
  /** Pause between task retries, replacing the definition's IntervalSeconds backoff. Default 50 ms. */
  readonly retryIntervalMs?: number;
}

interface Definition {
  States: Record<string, { Type: string; Seconds?: number; Resource?: string }>;
}

export class LocalStepFunctions {
  readonly executions: Execution[] = [];
  private listening?: Listening;
  private readonly aborts = new Set<() => void>();
  private readonly running = new Set<Promise<void>>();
  private readonly waiters = new Set<() => void>();
  private stopped = false;

  constructor(private readonly options: LocalStepFunctionsOptions) {}

  get url(): string {
    return this.listening!.url;
  }

  private machine(arn: unknown) {
    const m = this.options.stateMachines.find((s) => s.arn === arn);
    if (!m) throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
    return m;
  }

  /** Starts an execution; the same name with the same input returns the running one, as in AWS. */
  async startExecution(stateMachineArn: string, name: string | undefined, input: string): Promise<Execution> {
    const machine = this.machine(stateMachineArn);
    const execName = name ?? createHash('sha256').update(`${Date.now()}${Math.random()}`).digest('hex').slice(0, 32);
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(execName)) throw new AwsError('InvalidName', `Invalid Name: '${execName}'`);
    try {
      JSON.parse(input);
    } catch {
      throw new AwsError('InvalidExecutionInput', 'Invalid State Machine Execution Input');
    }
    const existing = this.executions.find((e) => e.stateMachineArn === stateMachineArn && e.name === execName);
    if (existing) {
      if (existing.input === input && existing.status === 'RUNNING') return existing;
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.executionArn}'`);
    }
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${execName}`;
    const execution: Execution = { executionArn, stateMachineArn, name: execName, input, status: 'RUNNING', startDate: new Date(), states: [], pendingWaitSeconds: 0 };
    this.executions.push(execution);
    const run = this.run(machine, execution).catch(() => undefined);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return execution;
  }

  private async holdWait(execution: Execution): Promise<void> {
    const seconds = execution.pendingWaitSeconds;
    if (seconds <= 0) return;
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(done);
        execution.release = undefined;
        execution.holdUntil = undefined;
        resolve();
      };
      execution.release = done;
      this.waiters.add(done);
      if (this.stopped) done();
      else if ((this.options.waits ?? 'asl') === 'asl') {
        const ms = seconds * 1000 * (this.options.waitScale ?? 1);
        execution.holdUntil = new Date(Date.now() + ms);
        timer = setTimeout(done, ms);
      }
      for (const notify of this.onHold.splice(0)) notify();
    });
    execution.pendingWaitSeconds = 0;
  }

  private onHold: Array<() => void> = [];

  private async run(machine: { definition: string }, execution: Execution): Promise<void> {
    const { StateMachine } = await import('aws-local-stepfunctions');
    const definition = JSON.parse(machine.definition) as Definition;
    const waitTimeOverrides: Record<string, number> = {};
    const taskResourceLocalHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [stateName, state] of Object.entries(definition.States)) {
      if (state.Type === 'Wait') {
        Object.defineProperty(waitTimeOverrides, stateName, {
          enumerable: true,
          // Read once when the Wait state runs: note the wait, let the state itself pass at once.
          get: () => {
            execution.states.push(stateName);
            execution.pendingWaitSeconds += state.Seconds ?? 0;
            return 0;
          },
        });
      }
      if (state.Type === 'Task' && state.Resource) {
        const resource = state.Resource;
        retryIntervalOverrides[stateName] = this.options.retryIntervalMs ?? 50;
        taskResourceLocalHandlers[stateName] = async (input: unknown) => {
          execution.states.push(stateName);
          // The library reads the task's TimeoutSeconds right after this handler returns its promise;
          // a held wait must not count against it, so lengthen it for this one read.
          const stateDef = state as { TimeoutSeconds?: number };
          const original = stateDef.TimeoutSeconds;
          if (execution.pendingWaitSeconds > 0) {
            const hold = (this.options.waits ?? 'asl') === 'manual' ? 1_000_000 : Math.ceil(execution.pendingWaitSeconds * (this.options.waitScale ?? 1));
            stateDef.TimeoutSeconds = (original ?? 60) + hold;
          }
          await Promise.resolve();
          if (original === undefined) delete stateDef.TimeoutSeconds;
          else stateDef.TimeoutSeconds = original;
          await this.holdWait(execution);
          if (this.stopped) throw Object.assign(new Error('Sandbox stopped'), { name: 'States.Runtime' });
          const result = await this.options.invoke(resource, input);
          if (result.functionError) {
            const payload = (result.payload ?? {}) as { errorType?: string; errorMessage?: string };
            throw Object.assign(new Error(`${payload.errorType ?? 'Error'}: ${payload.errorMessage ?? ''}`), { name: payload.errorType ?? 'Lambda.Unknown' });
          }
          return result.payload;
        };
      }
    }
    const machineRun = new StateMachine(definition as never, { validationOptions: { checkArn: false } }).run(JSON.parse(execution.input), {
      overrides: { waitTimeOverrides, taskResourceLocalHandlers: taskResourceLocalHandlers as never, retryIntervalOverrides },
      context: {
        Execution: { Id: execution.executionArn, Name: execution.name, Input: JSON.parse(execution.input), StartTime: execution.startDate.toISOString() },
        StateMachine: { Id: execution.stateMachineArn },
      } as never,
    });
    this.aborts.add(machineRun.abort);
    try {
      const output = await machineRun.result;
      execution.status = 'SUCCEEDED';
      execution.output = JSON.stringify(output ?? null);
    } catch (error) {
      const e = error as { name?: string; message?: string; cause?: unknown };
      execution.status = this.stopped ? 'ABORTED' : 'FAILED';
      execution.error = e.name ?? 'Error';
      execution.cause = typeof e.cause === 'string' ? e.cause : e.message;
    } finally {
      execution.stopDate = new Date();
      this.aborts.delete(machineRun.abort);
    }
  }

  /**
   * Ends the waits that executions are holding now (all, or those `which` selects), so their next
   * task runs at once. Resolves with how many were released. With `awaitHold`, first waits up to
   * `timeoutMs` for a matching execution to reach a wait.
   */
  async fastForward(which: (e: Execution) => boolean = () => true, options: { awaitHold?: boolean; timeoutMs?: number } = {}): Promise<number> {
    const holding = () => this.executions.filter((e) => e.release && which(e));
    if (options.awaitHold) {
      const deadline = Date.now() + (options.timeoutMs ?? 10_000);
      while (holding().length === 0) {
        if (Date.now() > deadline) throw new Error('No matching execution reached a wait state');
        await new Promise<void>((resolve) => {
          this.onHold.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    }
    const released = holding();
    for (const e of released) e.release?.();
    return released.length;
  }

  /** Executions whose input matches, newest last. */
  find(predicate: (input: Record<string, unknown>, e: Execution) => boolean): Execution[] {
    return this.executions.filter((e) => predicate(JSON.parse(e.input) as Record<string, unknown>, e));
  }

  private describe(e: Execution) {
    return {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate.getTime() / 1000,
      ...(e.stopDate ? { stopDate: e.stopDate.getTime() / 1000 } : {}),
      input: e.input,
      ...(e.output !== undefined ? { output: e.output } : {}),
      ...(e.error ? { error: e.error, cause: e.cause } : {}),
    };
  }

  async start(port = 0): Promise<void> {
    this.listening = await listen(
      bodyServer(
        awsJsonHandler('1.0', {
          StartExecution: async (input) => {
            const e = await this.startExecution(String(input.stateMachineArn), input.name === undefined ? undefined : String(input.name), input.input === undefined ? '{}' : String(input.input));
            return { executionArn: e.executionArn, startDate: e.startDate.getTime() / 1000 };
          },
          DescribeExecution: (input) => {
            const e = this.executions.find((x) => x.executionArn === input.executionArn);
            if (!e) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(input.executionArn)}'`);
            return this.describe(e);
          },
          ListExecutions: (input) => {
            this.machine(input.stateMachineArn);
            const list = this.executions
              .filter((e) => e.stateMachineArn === input.stateMachineArn && (!input.statusFilter || e.status === input.statusFilter))
              .reverse()
              .map((e) => {
                const { input: _input, output: _output, error: _error, cause: _cause, ...rest } = this.describe(e) as Record<string, unknown>;
                void _input, _output, _error, _cause;
                return rest;
              });
            return { executions: list };
          },
          StopExecution: (input) => {
            const e = this.executions.find((x) => x.executionArn === input.executionArn);
            if (!e) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(input.executionArn)}'`);
            e.status = 'ABORTED';
            e.stopDate = new Date();
            return { stopDate: e.stopDate.getTime() / 1000 };
          },
        }),
      ),
      port,
    );
  }

  /**
   * Resolves when every execution has either finished or is holding a wait (which, with manual
   * waits, lasts until fast-forwarded), so nothing more happens on its own.
   */
  async settle(): Promise<void> {
    for (;;) {
      const busy = this.executions.filter((e) => e.status === 'RUNNING' && !e.release);
      if (busy.length === 0 || this.stopped) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const release of [...this.waiters]) release();
    for (const abort of [...this.aborts]) abort();
    await Promise.race([Promise.all([...this.running]), new Promise((r) => setTimeout(r, 2000))]);
    await this.listening?.close();
  }
}
