/**
 * The Node.js binary the functions run on outside AWS: the sandbox's Lambda host, the tests that run
 * a function in a child process, and the benchmark. Lambda runs them on `LAMBDA_RUNTIME`
 * (functions/runtime.ts); the host's Node may be older (Node 20 is end-of-life, and AWS SDK releases
 * from January 2027 need 22), so the project pins the runtime's major through the npm `node` package,
 * which ships the binary through the registry. Tooling (build, synth, Terraform checks) keeps running
 * on whatever Node runs `make`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { LAMBDA_NODE_MAJOR, LAMBDA_RUNTIME } from '../../functions/runtime.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Where `npm ci` puts the binary of the `node` dev dependency. */
export const LAMBDA_NODE_PATH = path.join(ROOT, 'node_modules', 'node', 'bin', 'node');

let checked: string | undefined;

/**
 * The path of a Node.js binary whose major matches the Lambda runtime. The current process's own
 * binary is used when it already matches (so a host on Node 22 needs nothing more); otherwise the
 * pinned `node` package's. Throws, naming the fix, when neither is there or the package's binary is
 * another major, so a function never runs on a Node that AWS would not give it.
 */
export function lambdaNode(): string {
  if (checked) return checked;
  if (majorOf(process.version) === LAMBDA_NODE_MAJOR) return (checked = process.execPath);
  if (!existsSync(LAMBDA_NODE_PATH)) {
    throw new Error(`${LAMBDA_RUNTIME} needs Node.js ${LAMBDA_NODE_MAJOR}, but this is ${process.version} and ${path.relative(ROOT, LAMBDA_NODE_PATH)} is missing: run make install`);
  }
  const version = execFileSync(LAMBDA_NODE_PATH, ['--version'], { encoding: 'utf8' }).trim();
  if (majorOf(version) !== LAMBDA_NODE_MAJOR) {
    throw new Error(`${path.relative(ROOT, LAMBDA_NODE_PATH)} is ${version}, but ${LAMBDA_RUNTIME} runs Node.js ${LAMBDA_NODE_MAJOR}: pin the node dev dependency at ${LAMBDA_NODE_MAJOR}.x`);
  }
  return (checked = LAMBDA_NODE_PATH);
}

function majorOf(version: string): number {
  return Number(/^v?(\d+)\./.exec(version)?.[1]);
}
