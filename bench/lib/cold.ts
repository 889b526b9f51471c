/**
 * Cold load timing: how long a fresh `node` process takes to load a bundle, measured from spawn to
 * exit with hrtime in the parent, next to the same measurement for a bare `node -e 0`.
 *
 * Spawn-to-exit is what a Lambda cold start pays for module loading on top of the runtime's own
 * start, so the figure reported is the load time above the bare-node baseline of the same run.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** One timed process: wall time in the parent; CPU and require() time reported by the child. */
export interface ProcessSample {
  /** Spawn to exit, milliseconds. */
  readonly wallMs: number;
  /**
   * User + system CPU time of the child up to the end of its script. Contention from other work on the
   * machine stretches wall time but hardly CPU time, and Lambda gives a small function a fraction of
   * a vCPU, so CPU time is also the closer model of a real cold start.
   */
  readonly cpuMs: number;
  /** Time inside the child around require()/import(); undefined for the bare baseline. */
  readonly loadMs?: number;
}

export interface LoadOptions {
  /** Environment for the child (the function's own variables). */
  readonly env: Record<string, string>;
  /** Extra node flags, e.g. `--enable-source-maps`. */
  readonly nodeFlags?: readonly string[];
  /** Code run after the load, inside the timed span (e.g. formatting an error's stack). */
  readonly afterLoad?: string;
}

const CPU = 'cpu:(({user,system})=>(user+system)/1e3)(process.cpuUsage())';

/** The loader: requires (or, for .mjs, imports) the bundle and checks it exports a handler. */
function loaderScript(bundle: string, afterLoad = ''): string {
  const target = JSON.stringify(bundle);
  const check = `if(typeof m.handler!=='function'){console.error('no handler export');process.exit(3)}${afterLoad ? `;${afterLoad}` : ''}`;
  const report = `process.stdout.write(JSON.stringify({load:Number(process.hrtime.bigint()-t)/1e6,${CPU}}))`;
  if (bundle.endsWith('.mjs')) {
    return `const t=process.hrtime.bigint();import(${target}).then((m)=>{${check};${report}},(e)=>{console.error(e&&e.stack||e);process.exit(2)})`;
  }
  return `const t=process.hrtime.bigint();const m=require(${target});${check};${report}`;
}

function run(args: readonly string[], env: Record<string, string>, cwd: string): Promise<ProcessSample> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) {
        reject(new Error(`node ${args.join(' ').slice(0, 200)} exited ${code}: ${err.trim().slice(0, 800)}`));
        return;
      }
      let report: { load?: number; cpu?: number };
      try {
        report = JSON.parse(out) as { load?: number; cpu?: number };
      } catch {
        reject(new Error(`node ${args.join(' ').slice(0, 200)} printed no report: ${out.slice(0, 200)}`));
        return;
      }
      resolve({ wallMs, cpuMs: report.cpu ?? Number.NaN, ...(report.load === undefined ? {} : { loadMs: report.load }) });
    });
  });
}

/** A bare node (`node -e` that only reports its CPU time): the floor every load time is reported against. */
export function timeBareNode(env: Record<string, string>): Promise<ProcessSample> {
  return run(['-e', `process.stdout.write(JSON.stringify({${CPU}}))`], env, process.cwd());
}

/** A fresh node that loads `bundle` (absolute path) with its directory as the working directory, like /var/task. */
export function timeLoad(bundle: string, options: LoadOptions): Promise<ProcessSample> {
  return run([...(options.nodeFlags ?? []), '-e', loaderScript(bundle, options.afterLoad)], options.env, path.dirname(bundle));
}
