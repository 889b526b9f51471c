/**
 * Cold-start timing in fresh processes on the Lambda runtime's Node.js (`lambdaNode()`): how long a
 * bundle takes to load, and the whole cold path Cognito waits for, the load plus the first
 * invocation, next to the same measurement for a bare node.
 *
 * Spawn-to-exit is what a Lambda cold start pays on top of the runtime's own start, so the figures
 * reported are above the bare-node baseline of the same run. Every process, the baseline included,
 * first loads what Lambda's runtime has loaded before it loads a handler (./lambda-runtime.cjs), unless
 * it is told to be a plain node (the machine calibration, whose references were measured in one).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { lambdaNode } from '../../sandbox/lambda/node.ts';

/** One timed process: wall time in the parent; CPU and in-process times reported by the child. */
export interface ProcessSample {
  /** Spawn to exit, milliseconds. */
  readonly wallMs: number;
  /**
   * User + system CPU time of the child up to the end of the load. Contention from other work on the
   * machine stretches wall time but hardly CPU time, and Lambda gives a small function a fraction of
   * a vCPU, so CPU time is also the closer model of a real cold start.
   */
  readonly cpuMs: number;
  /** Time inside the child around require()/import(); undefined for the bare baseline. */
  readonly loadMs?: number;
}

/** A cold-path sample: the load, then the first invocation in the same process. */
export interface ColdPathSample extends ProcessSample {
  /** Wall time of the first invocation, in the child. */
  readonly callMs: number;
  /** CPU time of the first invocation. */
  readonly callCpuMs: number;
  /** Peak resident set size of the process at the end of the first invocation, MiB. */
  readonly peakRssMiB: number;
  /** When each phase began and ended, in a --cpu-prof profile's clock (monotonic microseconds). */
  readonly marks: { readonly started: number; readonly loaded: number; readonly callStarted: number; readonly callEnded: number };
}

export interface LoadOptions {
  /** Environment for the child (the function's own variables). */
  readonly env: Record<string, string>;
  /** Extra node flags, e.g. `--enable-source-maps`. */
  readonly nodeFlags?: readonly string[];
  /** Code run after the load, inside the timed span (e.g. formatting an error's stack). */
  readonly afterLoad?: string;
  /** A plain node, without what Lambda's runtime loads first (./lambda-runtime.cjs). Only the machine calibration asks for it. */
  readonly plainNode?: boolean;
}

const CHILD = path.join(import.meta.dirname, 'cold-child.cjs');
/** Node flags that make a child start as Lambda's runtime has before it loads a handler. */
const LAMBDA_RUNTIME_FLAGS: readonly string[] = ['--require', path.join(import.meta.dirname, 'lambda-runtime.cjs')];
const startFlags = (plainNode = false): readonly string[] => (plainNode ? [] : LAMBDA_RUNTIME_FLAGS);
const CPU = 'cpuMs:(({user,system})=>(user+system)/1e3)(process.cpuUsage())';
const REPORT = (fields: string) => `require('node:fs').writeSync(3,JSON.stringify({${fields}}))`;

/** The experiments' loader: requires (or, for .mjs, imports) the bundle, checks it exports a handler, runs `afterLoad`. */
function loaderScript(bundle: string, afterLoad = ''): string {
  const target = JSON.stringify(bundle);
  const check = `if(typeof m.handler!=='function'){console.error('no handler export');process.exit(3)}${afterLoad ? `;${afterLoad}` : ''}`;
  const report = REPORT(`loadMs:Number(process.hrtime.bigint()-t)/1e6,${CPU}`);
  if (bundle.endsWith('.mjs')) {
    return `const t=process.hrtime.bigint();import(${target}).then((m)=>{${check};${report}},(e)=>{console.error(e&&e.stack||e);process.exit(2)})`;
  }
  return `const t=process.hrtime.bigint();const m=require(${target});${check};${report}`;
}

/** Runs a child on the Lambda runtime's Node; it reports on file descriptor 3, while its stdout (the function's logs) is dropped. */
function run<T extends { cpuMs?: number; error?: string }>(args: readonly string[], env: Record<string, string>, cwd: string): Promise<T & { wallMs: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(lambdaNode(), args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    (child.stdio[3] as Readable).setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const what = `node ${args.map((a) => path.basename(a)).join(' ').slice(0, 200)}`;
      if (code !== 0) return reject(new Error(`${what} exited ${code}: ${err.trim().slice(0, 800)}`));
      let report: T;
      try {
        report = JSON.parse(out) as T;
      } catch {
        return reject(new Error(`${what} printed no report: ${out.slice(0, 200)}`));
      }
      if (report.error) return reject(new Error(`${what}: the handler threw ${report.error}`));
      resolve({ ...report, cpuMs: report.cpuMs ?? Number.NaN, wallMs });
    });
  });
}

/**
 * A node that only reports its CPU time: the floor every figure is reported against. It has loaded what
 * Lambda's runtime loads before a handler, as every timed process has, unless `plainNode` is set.
 */
export function timeBareNode(env: Record<string, string>, options: Pick<LoadOptions, 'plainNode'> = {}): Promise<ProcessSample> {
  return run<ProcessSample>([...startFlags(options.plainNode), CHILD], env, process.cwd());
}

/** A fresh node that loads `bundle` (absolute path) with its directory as the working directory, like /var/task. */
export function timeLoad(bundle: string, options: LoadOptions): Promise<ProcessSample> {
  const flags = [...startFlags(options.plainNode), ...(options.nodeFlags ?? [])];
  // The child requires; an ES module bundle, or code to run after the load, needs the inline loader.
  const inline = bundle.endsWith('.mjs') || options.afterLoad !== undefined;
  return run<ProcessSample>(inline ? [...flags, '-e', loaderScript(bundle, options.afterLoad)] : [...flags, CHILD, bundle], options.env, path.dirname(bundle));
}

/**
 * A fresh node that loads `bundle` and invokes its handler once with the event in `eventFile`, as
 * function `functionName`. Rejects when the handler throws: a cold path is only measured on the
 * success path.
 */
export function timeColdPath(bundle: string, eventFile: string, functionName: string, env: Record<string, string>, nodeFlags: readonly string[] = []): Promise<ColdPathSample> {
  return run<ColdPathSample>([...startFlags(), ...nodeFlags, CHILD, bundle, eventFile, functionName], env, path.dirname(bundle));
}
