/**
 * `make bench-profile FN=<function>`: where a cold start's time goes. Runs the function's cold path
 * (a fresh process on the Lambda runtime's Node.js loads the bundle, then runs its first invocation
 * against the bench's stub) under V8's sampling profiler (`--cpu-prof`), ours and naive, and splits
 * the samples into the two phases, load and first invocation. Each sample is charged to the nearest
 * bundled module on its stack, mapped back to its package through the bundle's source map, with the
 * Node.js internals it was running beside it (`@smithy/core → node:internal/deps/undici`).
 *
 *   node --import tsx bench/profile.ts pre-authentication [--variant ours|naive|both] [--runs 5] [--top 20] [--by package|file]
 *
 * Figures are sampled milliseconds per run, averaged over the runs; the profiler itself slows the
 * process, so they are for finding where time goes, not for budgets (make bench).
 */
import { build } from 'esbuild';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FUNCTIONS, type FunctionName } from '../functions/catalog.ts';
import { buildAll, entryPoints } from '../scripts/build.ts';
import { naiveOptions } from './lib/builds.ts';
import { encryptCode } from './lib/ciphertext.ts';
import { timeColdPath, type ColdPathSample } from './lib/cold.ts';
import { functionEnv } from './lib/env.ts';
import { benchEvent, USER_POOL_ID } from './lib/events.ts';
import { startStubServer } from './lib/stub-server.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    variant: { type: 'string', default: 'both' },
    runs: { type: 'string', default: '5' },
    top: { type: 'string', default: '20' },
    by: { type: 'string', default: 'package' },
    interval: { type: 'string', default: '100' },
  },
});

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

type Phase = 'load' | 'first invocation';

/** Where a frame of the bundle came from: `@scope/package` (or its file, with --by file), or our own source file. */
function origin(map: SourceMap | undefined, frame: CallFrame, byFile: boolean): string {
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string } | undefined;
  const source = entry?.originalSource;
  // esbuild's own helpers have no source. Time in __init/__require is mostly V8 compiling the module
  // bodies they call for the first time (compilation is charged to the caller).
  if (!source) return frame.lineNumber === 0 && frame.columnNumber === 0 ? 'bundle top level' : `esbuild helper ${frame.functionName || '(anonymous)'}`;
  const at = source.lastIndexOf('node_modules/');
  if (at < 0) return source.slice(source.lastIndexOf('functions/') >= 0 ? source.lastIndexOf('functions/') : 0);
  const parts = source.slice(at + 'node_modules/'.length).split('/');
  const width = parts[0]!.startsWith('@') ? 2 : 1;
  return byFile ? parts.join('/') : parts.slice(0, width).join('/');
}

/** What a frame outside the bundle is: a Node.js internal module, a native function or one of V8's pseudo-frames. */
function category(frame: CallFrame): string {
  if (frame.functionName.startsWith('(')) return frame.functionName;
  // With no bundle frame above it, the CommonJS loader is reading and compiling the bundle itself.
  if (frame.url === 'node:internal/modules/cjs/loader') return 'require(): reading and compiling the bundle';
  if (frame.url.startsWith('node:')) return frame.url.split('/').slice(0, 3).join('/');
  return frame.url === '' ? `native ${frame.functionName}` : path.basename(frame.url);
}

/** Sampled milliseconds by phase and origin for one profile. */
function attribute(profile: CpuProfile, marks: ColdPathSample['marks'], bundle: string, map: SourceMap | undefined, byFile: boolean): Map<Phase, Map<string, number>> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inBundle = (f: CallFrame) => f.url === bundle || f.url === `file://${bundle}`;
  const phases = new Map<Phase, Map<string, number>>([['load', new Map()], ['first invocation', new Map()]]);
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i]!;
    const phase: Phase | undefined = t >= marks.started && t < marks.loaded ? 'load' : t >= marks.callStarted && t < marks.callEnded ? 'first invocation' : undefined;
    if (!phase) return;
    const leaf = byId.get(id)!;
    let node: ProfileNode | undefined = leaf;
    while (node && !inBundle(node.callFrame)) node = byId.get(parent.get(node.id) ?? -1);
    const key = !node ? category(leaf.callFrame) : node === leaf ? origin(map, leaf.callFrame, byFile) : `${origin(map, node.callFrame, byFile)} → ${category(leaf.callFrame)}`;
    // A sample stands for the time until the next one.
    const ms = (profile.timeDeltas[i + 1] ?? Number(args.interval)) / 1000;
    const table = phases.get(phase)!;
    table.set(key, (table.get(key) ?? 0) + ms);
  });
  return phases;
}

async function profileVariant(name: FunctionName, variant: string, bundle: string, eventFile: string, stubUrl: string, dir: string): Promise<void> {
  const runs = Number(args.runs);
  const map = await readFile(`${bundle}.map`, 'utf8').then((text) => new SourceMap(JSON.parse(text) as ConstructorParameters<typeof SourceMap>[0]), () => undefined);
  const totals = new Map<Phase, Map<string, number>>();
  const walls: Array<{ load: number; call: number; callCpu: number }> = [];
  for (let run = 0; run < runs; run++) {
    const profDir = path.join(dir, `${variant}-${run}`);
    const sample = await timeColdPath(bundle, eventFile, name, functionEnv(name, stubUrl), ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${args.interval}`]);
    const [file] = await readdir(profDir);
    const profile = JSON.parse(await readFile(path.join(profDir, file!), 'utf8')) as CpuProfile;
    walls.push({ load: sample.loadMs!, call: sample.callMs, callCpu: sample.callCpuMs });
    for (const [phase, table] of attribute(profile, sample.marks, bundle, map, args.by === 'file')) {
      const total = totals.get(phase) ?? new Map<string, number>();
      for (const [key, ms] of table) total.set(key, (total.get(key) ?? 0) + ms / runs);
      totals.set(phase, total);
    }
  }
  const mean = (pick: (w: (typeof walls)[number]) => number) => (walls.reduce((t, w) => t + pick(w), 0) / walls.length).toFixed(1);
  const lines = [`${name} (${variant}), ${runs} profiled runs: load ${mean((w) => w.load)} ms, first invocation ${mean((w) => w.call)} ms wall (${mean((w) => w.callCpu)} ms CPU), profiler on`];
  for (const [phase, table] of totals) {
    const sum = [...table.values()].reduce((a, b) => a + b, 0);
    lines.push(`  ${phase}: ${sum.toFixed(1)} ms sampled`);
    for (const [key, ms] of [...table].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) {
      lines.push(`    ${ms.toFixed(2).padStart(7)}  ${((100 * ms) / sum).toFixed(0).padStart(3)}%  ${key}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const name = positionals[0] as FunctionName | undefined;
  if (!name || !FUNCTIONS.some((f) => f.name === name)) {
    throw new Error(`usage: bench/profile.ts <function> [--variant ours|naive|both]; functions: ${FUNCTIONS.map((f) => f.name).join(', ')}`);
  }
  const variants = args.variant === 'both' ? ['ours', 'naive'] : [args.variant!];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cognito-profile-'));
  const stub = await startStubServer();
  try {
    // Ours exactly as shipped (its source map beside it); naive with a source map added, which changes no code.
    await buildAll(path.join(dir, 'ours'));
    await build({ ...naiveOptions(entryPoints([name]), path.join(dir, 'naive')), sourcemap: true, sourcesContent: false });
    const eventFile = path.join(dir, 'event.json');
    await writeFile(eventFile, JSON.stringify(benchEvent(name, { encryptedCode: await encryptCode('123456', stub.url, USER_POOL_ID) })));
    for (const variant of variants) await profileVariant(name, variant, path.join(dir, variant, name, 'index.js'), eventFile, stub.url, dir);
  } finally {
    await stub.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
