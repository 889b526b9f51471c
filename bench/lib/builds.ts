/**
 * The builds the benchmark compares, and the timed build and synth commands.
 *
 * "Ours" is exactly what `make build` ships (scripts/build.ts, run as a command). "Naive" is what a
 * first implementation gets from esbuild without tuning ("esbuild's defaults, no minify,
 * default main fields, full package imports"): bundle for node and nothing else (esbuild's default
 * main fields prefer the SDK's CommonJS builds); where our code imports a narrow package, the
 * package's full index instead; and where our code calls a vendor's REST API directly (SendGrid,
 * Twilio), the vendor's SDK instead (bench/naive/). The senders' load-ratio budget reads that build.
 *
 * "Same source" is the naive build without the vendor-SDK substitution: our provider modules kept,
 * only the esbuild options and the `@aws-crypto` index differ. It is reported next to the naive
 * ratio for the senders (informational, not a budget), so the part of the gain that comes from
 * choosing REST over the SDKs is visible on its own.
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
};

/**
 * Our modules that call a service without its SDK, and the naive module that does the same through
 * the SDK with the same exported interface: the senders' providers, which call SendGrid's and
 * Twilio's REST APIs, and the synchronous triggers' AWS clients (functions/common/aws-clients.ts).
 */
export const VENDOR_SDK_MODULE_FOR: Readonly<Record<string, string>> = {
  [path.join(repoRoot, 'functions/common/providers/sendgrid.ts')]: path.join(repoRoot, 'bench/naive/sendgrid.ts'),
  [path.join(repoRoot, 'functions/common/providers/twilio.ts')]: path.join(repoRoot, 'bench/naive/twilio.ts'),
  [path.join(repoRoot, 'functions/common/aws-clients.ts')]: path.join(repoRoot, 'bench/naive/aws-clients.ts'),
};

/** Resolves imports of those modules to their SDK versions in bench/naive/. */
function vendorSdkProviders(): Plugin {
  const naiveModules = new Set(Object.values(VENDOR_SDK_MODULE_FOR));
  return {
    name: 'vendor-sdk-providers',
    setup(b) {
      b.onResolve({ filter: /(providers\/(sendgrid|twilio)|aws-clients)\.ts$/ }, (args) => {
        // The naive modules re-export the shipped secret parsers, so their own imports stay as written.
        if (naiveModules.has(args.importer)) return undefined;
        const naive = VENDOR_SDK_MODULE_FOR[path.resolve(args.resolveDir, args.path)];
        return naive ? { path: naive } : undefined;
      });
    },
  };
}

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

/** Which naive baseline: `naive` (the budgets' baseline) or `same-source` (no vendor-SDK substitution). */
export type NaiveVariant = 'naive' | 'same-source';

/**
 * esbuild's defaults for a node bundle; only the output layout is set so bundles land where ours do.
 * The plugins only change what an import resolves to, never how it is built.
 */
export function naiveOptions(entries: Record<string, string>, outdir: string, variant: NaiveVariant = 'naive'): BuildOptions {
  return {
    entryPoints: entries,
    outdir,
    entryNames: '[dir]/index',
    bundle: true,
    platform: 'node',
    logLevel: 'silent',
    plugins: variant === 'naive' ? [fullPackageImports(), vendorSdkProviders()] : [fullPackageImports()],
  };
}

/** Builds and zips a naive baseline of every function into `outRoot`. */
export async function buildNaive(outRoot: string, variant: NaiveVariant = 'naive'): Promise<void> {
  await rm(outRoot, { recursive: true, force: true });
  await mkdir(outRoot, { recursive: true });
  const names = FUNCTIONS.map((f) => f.name);
  await build(naiveOptions(entryPoints(names), outRoot, variant));
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
