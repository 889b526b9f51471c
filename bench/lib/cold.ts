/**
 * Cold load timing: how long a fresh `node` process takes to load a bundle, measured from spawn to
 * exit with hrtime in the parent, next to the same measurement for a bare `node -e 0`.
 *
 * Spawn-to-exit is what a Lambda cold start pays for module loading on top of the runtime's own
 * start, so the figure reported is the load time above the bare-node baseline of the same run.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** One timed process: wall time in the parent, and the loader's own `require()` time in the child. */
export interface ProcessSample {
  /** Spawn to exit, milliseconds. */
  readonly wallMs: number;
  /** Time inside the child around require()/import(); undefined for the bare baseline. */
  readonly loadMs?: number;
}

export interface LoadOptions {
  /** Environment for the child (the function's own variables). */
  readonly env: Record<string, string>;
  /** Extra node flags, e.g. `--enable-source-maps`. */
  readonly nodeFlags?: readonly string[];
}

/** The loader: requires (or, for .mjs, imports) the bundle and checks it exports a handler. */
function loaderScript(bundle: string): string {
  const target = JSON.stringify(bundle);
  const check = "if(typeof m.handler!=='function'){console.error('no handler export');process.exit(3)}";
  const report = 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
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
      const loadMs = out.trim() === '' ? undefined : Number(out.trim());
      resolve(loadMs === undefined ? { wallMs } : { wallMs, loadMs });
    });
  });
}

/** A bare `node -e 0`: the floor every load time is reported against. */
export function timeBareNode(env: Record<string, string>): Promise<ProcessSample> {
  return run(['-e', '0'], env, process.cwd());
}

/** A fresh node that loads `bundle` (absolute path) with its directory as the working directory, like /var/task. */
export function timeLoad(bundle: string, options: LoadOptions): Promise<ProcessSample> {
  return run([...(options.nodeFlags ?? []), '-e', loaderScript(bundle)], options.env, path.dirname(bundle));
}
