/**
 * The two builds the benchmark compares, and the timed build and synth commands.
 *
 * "Ours" is exactly what `make build` ships (scripts/build.ts, run as a command). "Naive" is the same
 * source with what a developer gets from esbuild without tuning: bundle for node and nothing else
 * (no minify, esbuild's default main fields, which prefer the SDK's CommonJS builds) and, where our
 * code imports a narrow package, the package's full index instead.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { entryPoints, zipDirectory } from '../../scripts/build.ts';
import { FUNCTIONS } from '../../functions/catalog.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/**
 * Narrow packages our code may import, and the full package a developer would reach for instead.
 * Each full package re-exports the narrow one's API, so the naive bundle runs the same code.
 */
export const FULL_PACKAGE_FOR: Readonly<Record<string, string>> = {
  '@aws-crypto/decrypt-node': '@aws-crypto/client-node',
  '@aws-crypto/encrypt-node': '@aws-crypto/client-node',
  '@aws-crypto/kms-keyring-node': '@aws-crypto/client-node',
  '@aws-crypto/material-management-node': '@aws-crypto/client-node',
  '@aws-crypto/raw-aes-keyring-node': '@aws-crypto/client-node',
  '@aws-crypto/caching-materials-manager-node': '@aws-crypto/client-node',
  '@sendgrid/client': '@sendgrid/mail',
};

/** Rewrites narrow imports to their full package, as a developer who imports the index would write them. */
function fullPackageImports(): Plugin {
  const names = Object.keys(FULL_PACKAGE_FOR).map((n) => n.replace(/[/@.-]/g, (c) => `\\${c}`));
  return {
    name: 'full-package-imports',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, async (args) => {
        // Only our own imports change; the packages' imports of each other stay as published.
        if (args.pluginData === 'full-package-imports' || args.importer.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const full = FULL_PACKAGE_FOR[args.path]!;
        const resolved = await b.resolve(full, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'full-package-imports' });
        return resolved.errors.length ? { errors: resolved.errors } : { path: resolved.path };
      });
    },
  };
}

/** esbuild's defaults for a node bundle; only the output layout is set so bundles land where ours do. */
export function naiveOptions(entries: Record<string, string>, outdir: string): BuildOptions {
  return {
    entryPoints: entries,
    outdir,
    entryNames: '[dir]/index',
    bundle: true,
    platform: 'node',
    logLevel: 'silent',
    plugins: [fullPackageImports()],
  };
}

/** Builds and zips the naive baseline of every function into `outRoot`. */
export async function buildNaive(outRoot: string): Promise<void> {
  await rm(outRoot, { recursive: true, force: true });
  await mkdir(outRoot, { recursive: true });
  const names = FUNCTIONS.map((f) => f.name);
  await build(naiveOptions(entryPoints(names), outRoot));
  await Promise.all(names.map((name) => zipDirectory(path.join(outRoot, name), path.join(outRoot, `${name}.zip`))));
}

export interface CommandTiming {
  /** Spawn to exit. */
  readonly wallMs: number;
  readonly stdout: string;
}

/** Runs a command to completion and times it from spawn to exit; rejects on a non-zero exit. */
export function timeCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CommandTiming> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? code}): ${(err || out).trim().slice(-1500)}`));
      else resolve({ wallMs, stdout: out });
    });
  });
}

const TSX = ['--import', 'tsx'];

/** `make build`'s command into `outDir`; also returns the build's own in-process figure when it prints one. */
export async function timeBuild(outDir: string): Promise<{ wallMs: number; inProcessMs?: number }> {
  const { wallMs, stdout } = await timeCommand(process.execPath, [...TSX, 'scripts/build.ts'], { ...process.env, BUILD_OUT_DIR: outDir });
  const match = /in (\d+(?:\.\d+)?) ms/.exec(stdout);
  return match ? { wallMs, inProcessMs: Number(match[1]) } : { wallMs };
}

/** `cdktf synth`'s app command (`node --import tsx main.ts`), writing to `outDir`. */
export async function timeSynth(outDir: string): Promise<{ wallMs: number }> {
  const { wallMs } = await timeCommand(process.execPath, [...TSX, 'main.ts'], { ...process.env, CDKTF_OUTDIR: outDir, CHECKPOINT_DISABLE: '1' });
  return { wallMs };
}
