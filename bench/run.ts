/**
 * `make bench`: cold load, bundle size, warm latency, sandbox latency, build and synth time, all in
 * one run, each against a baseline measured in the same run (machines here are noisy, so budgets are
 * ratios). Writes bench/results.json, prints a table and PASS/FAIL per budget in bench/budgets.json.
 *
 *   node --import tsx bench/run.ts            full run; exits 1 when a budget fails
 *   node --import tsx bench/run.ts --smoke    one quick round; exits 0 unless the harness breaks
 *   options: --rounds N  --invocations N  --only a,b  --out FILE
 *            --experiments (also run build-option and import-cost experiments), --experiments-only
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FUNCTIONS, type FunctionKind, type FunctionName } from '../functions/catalog.ts';
import { buildNaive, repoRoot, timeBuild, timeSynth } from './lib/builds.ts';
import { encryptCode } from './lib/ciphertext.ts';
import { timeBareNode, timeColdPath, timeLoad, type ColdPathSample, type ProcessSample } from './lib/cold.ts';
import { COLD_PATHS, type ColdPathName } from './lib/paths.ts';
import { buildFloor, FLOOR_PROBE } from './lib/floor.ts';
import { functionEnv } from './lib/env.ts';
import { benchEvent, USER_POOL_ID } from './lib/events.ts';
import { measureSandbox, type SandboxResult } from './lib/sandbox-e2e.ts';
import { median, round, shuffled } from './lib/stats.ts';
import { startStubServer, type StubServer } from './lib/stub-server.ts';
import { lambdaNode } from '../sandbox/lambda/node.ts';
import { measureWarm, type WarmResult } from './lib/warm.ts';
import { runExperiments, type ExperimentsResult } from './lib/experiments.ts';
import { buildCalibration, CALIBRATION_BUILDS, machineFactor, type CalibrationBuild, type CalibrationReference, type MachineCalibration } from './lib/calibration.ts';

// The bench itself builds an SDK client (to encrypt sender codes); Node 20 would print a support notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    invocations: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    experiments: { type: 'boolean', default: false },
    'experiments-only': { type: 'boolean', default: false },
  },
});

const smoke = args.smoke;
/** At least 15 fresh processes per bundle in a full run; 21 keeps the median steady here. */
const rounds = Number(args.rounds ?? (smoke ? 1 : 21));
const invocations = Number(args.invocations ?? (smoke ? 20 : 1_000));
const buildRuns = smoke ? 1 : 3;
const synthRuns = smoke ? 1 : 3;
const sandboxUsers = smoke ? 1 : 10;
const outFile = path.resolve(args.out ?? path.join(repoRoot, 'bench', 'results.json'));
const selected = FUNCTIONS.filter((f) => !args.only || args.only.split(',').includes(f.name));

interface Budgets {
  loadMetric: 'cpu' | 'wall';
  coldLoadRatio: Record<FunctionKind, number>;
  ratioAppliesAboveNaiveMs: number;
  coldLoadAboveNodeMs: Record<FunctionKind, number>;
  /** Cold path (load + first invocation) at most this times naive, for the kinds listed. */
  coldPathRatio: Partial<Record<FunctionKind, number>>;
  /** The sum of a user path's cold paths at most this times naive's sum (bench/lib/paths.ts). */
  pathColdRatio: Partial<Record<ColdPathName, number>>;
  /** What the calibration workload loads in on the machine the caps were set on (bench/lib/calibration.ts). */
  machineCalibration: CalibrationReference;
  bundleSizeRatio: number;
  buildMs: number;
  synthMs: number;
}

interface Sizes {
  indexBytes: number;
  mapBytes: number;
  zipBytes: number;
}

interface LoadFigures {
  /** Median spawn-to-exit of the loading process. */
  medianMs: number;
  /** medianMs minus the bare-node median of the same run. */
  aboveNodeMs: number;
  /** Median of the child's own require() time (no process start or exit). */
  requireMedianMs: number;
  /** Median CPU time (user + system) of the loading process. */
  cpuMedianMs: number;
  /** cpuMedianMs minus the bare-node CPU median of the same run. */
  cpuAboveNodeMs: number;
  rawMs: number[];
  rawCpuMs: number[];
}

/** The cold path: a fresh process loads the bundle and runs its first invocation against the stub. */
export interface ColdPathFigures {
  /** Median CPU time of the first invocation alone. */
  firstCallCpuMs: number;
  /** Median wall time of the first invocation alone, in the child. */
  firstCallMs: number;
  /** Median CPU time of load + first invocation, minus the bare-node CPU median of the same run. */
  cpuAboveNodeMs: number;
  /** Median spawn-to-exit of load + first invocation, minus the bare-node median of the same run. */
  aboveNodeMs: number;
  /** Median peak resident set size at the end of the first invocation (the whole process, runtime included). */
  peakRssMiB: number;
  rawCpuMs: number[];
  rawMs: number[];
  rawFirstCallCpuMs: number[];
  rawPeakRssMiB: number[];
}

interface FunctionResult {
  name: FunctionName;
  kind: FunctionKind;
  ours: Sizes & { load?: LoadFigures; coldPath?: ColdPathFigures };
  /** The budgets' baseline: esbuild defaults, full package imports, vendor SDKs for delivery. */
  naive: Sizes & { load?: LoadFigures; coldPath?: ColdPathFigures };
  /**
   * Informational: the naive build without the vendor-SDK substitution (our REST provider modules
   * kept). Present only where it differs from `naive`, i.e. for the senders.
   */
  sameSource?: Sizes & { load?: LoadFigures; coldPath?: ColdPathFigures };
  ratios: {
    indexSize: number;
    zipSize: number;
    load?: number;
    loadCpu?: number;
    /** Ours / same-source, wall and CPU; informational, never a budget. */
    loadSameSource?: number;
    loadCpuSameSource?: number;
    /** Cold path (load + first invocation), ours / naive, wall and CPU. */
    coldPath?: number;
    coldPathCpu?: number;
  };
  warm?: WarmResult;
  errors: string[];
}

interface BudgetCheck {
  id: string;
  description: string;
  limit: number;
  actual: number | null;
  pass: boolean;
  /** Why the check was not judged (it then counts as passing). */
  skipped?: string;
  /** For the calibrated load caps: the figure as measured on this machine, before the machine factor. */
  measured?: number | null;
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function sizes(root: string, name: string): Promise<Sizes> {
  return {
    indexBytes: await fileSize(path.join(root, name, 'index.js')),
    mapBytes: await fileSize(path.join(root, name, 'index.js.map')),
    zipBytes: await fileSize(path.join(root, `${name}.zip`)),
  };
}

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([readFile(a), readFile(b)]);
  return x.equals(y);
}

function machine() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  return readFile('/proc/cpuinfo', 'utf8')
    .then((text) => {
      cpuModel = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? cpuModel;
    })
    .catch(() => undefined)
    .then(() => ({
      nproc: os.availableParallelism(),
      cpuModel,
      /** The Node.js running the harness, the build and the synth. */
      node: process.version,
      /** The Node.js the functions were measured on: the Lambda runtime's major (sandbox/lambda/node.ts). */
      functionsNode: execFileSync(lambdaNode(), ['--version'], { encoding: 'utf8' }).trim(),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
    }));
}

const startedAt = performance.now();
function log(message: string): void {
  process.stderr.write(`[bench +${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);
}

function loadFigures(samples: ProcessSample[], baseline: { wall: number; cpu: number }): LoadFigures {
  const walls = samples.map((s) => s.wallMs);
  const cpus = samples.map((s) => s.cpuMs);
  const med = median(walls);
  const cpu = median(cpus);
  return {
    medianMs: round(med),
    aboveNodeMs: round(med - baseline.wall),
    requireMedianMs: round(median(samples.map((s) => s.loadMs ?? Number.NaN))),
    cpuMedianMs: round(cpu),
    cpuAboveNodeMs: round(cpu - baseline.cpu),
    rawMs: walls.map((w) => round(w)),
    rawCpuMs: cpus.map((c) => round(c)),
  };
}

function coldPathFigures(samples: ColdPathSample[], baseline: { wall: number; cpu: number }): ColdPathFigures {
  const cpus = samples.map((s) => s.cpuMs + s.callCpuMs);
  const walls = samples.map((s) => s.wallMs);
  return {
    firstCallCpuMs: round(median(samples.map((s) => s.callCpuMs))),
    firstCallMs: round(median(samples.map((s) => s.callMs))),
    cpuAboveNodeMs: round(median(cpus) - baseline.cpu),
    aboveNodeMs: round(median(walls) - baseline.wall),
    peakRssMiB: round(median(samples.map((s) => s.peakRssMiB)), 1),
    rawCpuMs: cpus.map((c) => round(c)),
    rawMs: walls.map((w) => round(w)),
    rawFirstCallCpuMs: samples.map((s) => round(s.callCpuMs)),
    rawPeakRssMiB: samples.map((s) => round(s.peakRssMiB, 1)),
  };
}

/** Where each function's cold path runs: its event on disk and the stub its endpoints point at. */
interface ColdPathSetup {
  readonly stub: StubServer;
  /** Event file per function. */
  readonly events: ReadonlyMap<FunctionName, string>;
  /** The floor probe's bundle (bench/lib/floor.ts), run in the same rounds as the functions. */
  readonly floorBundle: string;
}

type Variant = 'ours' | 'naive' | 'sameSource';

/**
 * Fresh-process cold starts of ours and naive of every function, interleaved: each is preceded by a
 * bare node, and the order is shuffled per round, so slow phases of a noisy machine hit baseline,
 * ours and naive alike. Each function's process loads the bundle and then runs its first invocation
 * against the stub, so one sample gives both the load (CPU at the end of require, wall time
 * spawn-to-exit minus the invocation) and the whole cold path. The calibration workload only loads.
 */
async function measureCold(stage: Record<Variant, string>, results: FunctionResult[], calibration: Record<CalibrationBuild, string>, setup: ColdPathSetup) {
  type Task = { r: FunctionResult; variant: Variant } | { calibrate: CalibrationBuild } | { floor: true };
  const tasks: Task[] = [
    ...results.flatMap((r) =>
      (['ours', 'naive', 'sameSource'] as const).filter((variant) => variant !== 'sameSource' || r.sameSource).map((variant) => ({ r, variant })),
    ),
    // The calibration workload takes its turns among the functions, so it sees the same machine they do.
    ...CALIBRATION_BUILDS.map((calibrate) => ({ calibrate })),
    { floor: true },
  ];
  const baseline: ProcessSample[] = [];
  const samples = new Map<string, ProcessSample[]>();
  const coldSamples = new Map<string, ColdPathSample[]>();
  const failed = new Set<string>();
  const calibrationErrors: string[] = [];
  const bareEnv = functionEnv('pre-token-generation');
  const totalRounds = smoke ? rounds : rounds + 1;
  for (let round = 0; round < totalRounds; round++) {
    // The first full-mode round warms the page cache and is discarded.
    const record = smoke || round > 0;
    for (const task of shuffled(tasks, 0x5eed + round)) {
      const key = 'calibrate' in task ? `calibration/${task.calibrate}` : 'floor' in task ? FLOOR_PROBE : `${task.r.name}/${task.variant}`;
      if (failed.has(key)) continue;
      const bare = await timeBareNode(bareEnv);
      try {
        if ('calibrate' in task) {
          const sample = await timeLoad(calibration[task.calibrate], { env: bareEnv });
          if (record) samples.set(key, [...(samples.get(key) ?? []), sample]);
        } else if ('floor' in task) {
          // Any event will do: the probe only sends its one request. Its endpoint is pre-authentication's.
          const sample = await timeColdPath(setup.floorBundle, setup.events.get('pre-authentication')!, FLOOR_PROBE, functionEnv('pre-authentication', setup.stub.url));
          if (record) coldSamples.set(key, [...(coldSamples.get(key) ?? []), sample]);
        } else {
          const { name } = task.r;
          const sample = await timeColdPath(path.join(stage[task.variant], name, 'index.js'), setup.events.get(name)!, name, functionEnv(name, setup.stub.url));
          if (record) {
            // The load's share of the process's wall time: everything but the first invocation.
            samples.set(key, [...(samples.get(key) ?? []), { wallMs: sample.wallMs - sample.callMs, cpuMs: sample.cpuMs, ...(sample.loadMs === undefined ? {} : { loadMs: sample.loadMs }) }]);
            coldSamples.set(key, [...(coldSamples.get(key) ?? []), sample]);
          }
        }
        if (record) baseline.push(bare);
      } catch (error) {
        failed.add(key);
        if ('calibrate' in task) calibrationErrors.push(`calibration ${task.calibrate} failed to load: ${(error as Error).message}`);
        else if ('floor' in task) calibrationErrors.push(`${FLOOR_PROBE} failed its cold start: ${(error as Error).message}`);
        else task.r.errors.push(`${task.variant} bundle failed its cold start: ${(error as Error).message}`);
      }
    }
    log(`cold round ${round + 1}/${totalRounds}${record ? '' : ' (warm-up, discarded)'}`);
  }
  const base = { wall: median(baseline.map((b) => b.wallMs)), cpu: median(baseline.map((b) => b.cpuMs)) };
  for (const r of results) {
    for (const variant of ['ours', 'naive', 'sameSource'] as const) {
      const figures = r[variant];
      const load = samples.get(`${r.name}/${variant}`);
      const cold = coldSamples.get(`${r.name}/${variant}`);
      if (!figures) continue;
      if (load) figures.load = loadFigures(load, base);
      if (cold) figures.coldPath = coldPathFigures(cold, base);
    }
    if (r.ours.load && r.naive.load) {
      r.ratios.load = round(r.ours.load.aboveNodeMs / r.naive.load.aboveNodeMs, 3);
      r.ratios.loadCpu = round(r.ours.load.cpuAboveNodeMs / r.naive.load.cpuAboveNodeMs, 3);
    }
    if (r.ours.coldPath && r.naive.coldPath) {
      r.ratios.coldPath = round(r.ours.coldPath.aboveNodeMs / r.naive.coldPath.aboveNodeMs, 3);
      r.ratios.coldPathCpu = round(r.ours.coldPath.cpuAboveNodeMs / r.naive.coldPath.cpuAboveNodeMs, 3);
    }
    if (r.ours.load && r.sameSource?.load) {
      r.ratios.loadSameSource = round(r.ours.load.aboveNodeMs / r.sameSource.load.aboveNodeMs, 3);
      r.ratios.loadCpuSameSource = round(r.ours.load.cpuAboveNodeMs / r.sameSource.load.cpuAboveNodeMs, 3);
    }
  }
  const floorSamples = coldSamples.get(FLOOR_PROBE);
  const calibrationLoads: Partial<Record<CalibrationBuild, LoadFigures>> = {};
  for (const variant of CALIBRATION_BUILDS) {
    const figures = samples.get(`calibration/${variant}`);
    if (figures) calibrationLoads[variant] = loadFigures(figures, base);
  }
  return {
    baseline: {
      medianMs: round(base.wall),
      cpuMedianMs: round(base.cpu),
      samples: baseline.length,
      rawMs: baseline.map((b) => round(b.wallMs)),
      rawCpuMs: baseline.map((b) => round(b.cpuMs)),
    },
    calibrationLoads,
    calibrationErrors,
    ...(floorSamples ? { floor: coldPathFigures(floorSamples, base) } : {}),
  };
}

/** A user path's cold total: the sum of its triggers' cold paths, ours and naive, CPU and wall. */
interface PathTotal {
  readonly functions: readonly FunctionName[];
  readonly ours: { cpuMs: number; wallMs: number };
  readonly naive: { cpuMs: number; wallMs: number };
  readonly ratio: number;
  readonly ratioCpu: number;
  /**
   * The path with each trigger at its floor: the floor probe's cold path, or the trigger's own when
   * that is lower (a trigger that calls no AWS service is already below the probe), and its ratio to naive.
   */
  readonly floor?: { cpuMs: number; wallMs: number; ratio: number; ratioCpu: number };
}

function pathTotals(results: FunctionResult[], floor: ColdPathFigures | undefined): Partial<Record<ColdPathName, PathTotal>> {
  const totals: Partial<Record<ColdPathName, PathTotal>> = {};
  for (const [name, members] of Object.entries(COLD_PATHS) as Array<[ColdPathName, readonly FunctionName[]]>) {
    const measured = members.map((m) => results.find((r) => r.name === m));
    if (measured.some((r) => !r?.ours.coldPath || !r.naive.coldPath)) continue;
    const sum = (variant: 'ours' | 'naive', field: 'cpuAboveNodeMs' | 'aboveNodeMs') => round(measured.reduce((t, r) => t + r![variant].coldPath![field], 0), 1);
    const ours = { cpuMs: sum('ours', 'cpuAboveNodeMs'), wallMs: sum('ours', 'aboveNodeMs') };
    const naive = { cpuMs: sum('naive', 'cpuAboveNodeMs'), wallMs: sum('naive', 'aboveNodeMs') };
    const atFloor = (field: 'cpuAboveNodeMs' | 'aboveNodeMs') => round(measured.reduce((t, r) => t + Math.min(r!.ours.coldPath![field], floor![field]), 0), 1);
    const floorTotal = floor ? { cpuMs: atFloor('cpuAboveNodeMs'), wallMs: atFloor('aboveNodeMs') } : undefined;
    totals[name] = {
      functions: members,
      ours,
      naive,
      ratio: round(ours.wallMs / naive.wallMs, 3),
      ratioCpu: round(ours.cpuMs / naive.cpuMs, 3),
      ...(floorTotal ? { floor: { ...floorTotal, ratio: round(floorTotal.wallMs / naive.wallMs, 3), ratioCpu: round(floorTotal.cpuMs / naive.cpuMs, 3) } } : {}),
    };
  }
  return totals;
}

/** The run's machine factor, read in the budgets' load metric. */
function calibrate(budgets: Budgets, loads: Partial<Record<CalibrationBuild, LoadFigures>>, errors: readonly string[]): MachineCalibration & { loads: typeof loads; errors: readonly string[] } {
  const measured: Partial<Record<CalibrationBuild, number>> = {};
  for (const variant of CALIBRATION_BUILDS) {
    const load = loads[variant];
    if (load) measured[variant] = budgets.loadMetric === 'cpu' ? load.cpuAboveNodeMs : load.aboveNodeMs;
  }
  return { ...machineFactor(measured, budgets.machineCalibration), loads, errors };
}

function evaluateBudgets(
  budgets: Budgets,
  results: FunctionResult[],
  paths: Partial<Record<ColdPathName, PathTotal>>,
  build: { wallMedianMs: number },
  synth: { wallMedianMs: number } | { error: string },
  machine: MachineCalibration,
): BudgetCheck[] {
  const checks: BudgetCheck[] = [];
  const check = (id: string, description: string, limit: number, actual: number | undefined | null) =>
    checks.push({ id, description, limit, actual: actual ?? null, pass: actual !== undefined && actual !== null && Number.isFinite(actual) && actual <= limit });
  const cpu = budgets.loadMetric === 'cpu';
  const metric = cpu ? 'CPU' : 'wall';
  /** Marks the last ratio check as not judged: naive is at the floor already (see ratioAppliesAboveNaiveMs). */
  const skip = (naiveMs: number, what: string) => {
    const last = checks[checks.length - 1]!;
    last.pass = true;
    last.skipped = `naive ${what} takes ${naiveMs} ms, under ${budgets.ratioAppliesAboveNaiveMs} ms: no library weight to remove, both at the floor`;
  };
  for (const r of results) {
    check(`${r.name}.size`, `${r.name}: index.js at most ${budgets.bundleSizeRatio}x naive`, budgets.bundleSizeRatio, r.ratios.indexSize);
    check(
      `${r.name}.load-ratio`,
      `${r.name}: cold load (${metric}) at most ${budgets.coldLoadRatio[r.kind]}x naive (${r.kind})`,
      budgets.coldLoadRatio[r.kind],
      cpu ? r.ratios.loadCpu : r.ratios.load,
    );
    const naiveMs = cpu ? r.naive.load?.cpuAboveNodeMs : r.naive.load?.aboveNodeMs;
    if (naiveMs !== undefined && naiveMs < budgets.ratioAppliesAboveNaiveMs) skip(naiveMs, 'load');
    // The cap is milliseconds on the reference machine: the raw figure divided by this run's machine factor.
    const rawMs = cpu ? r.ours.load?.cpuAboveNodeMs : r.ours.load?.aboveNodeMs;
    check(
      `${r.name}.load-ms`,
      `${r.name}: cold load (${metric}) under ${budgets.coldLoadAboveNodeMs[r.kind]} ms above bare node on the reference machine (${r.kind}; ` +
        `${rawMs ?? '?'} ms measured / machine factor ${machine.factor})`,
      budgets.coldLoadAboveNodeMs[r.kind],
      rawMs === undefined ? undefined : round(rawMs / machine.factor, 1),
    );
    checks[checks.length - 1]!.measured = rawMs ?? null;
    const pathLimit = budgets.coldPathRatio[r.kind];
    if (pathLimit !== undefined) {
      check(
        `${r.name}.cold-path-ratio`,
        `${r.name}: cold path, load + first invocation (${metric}), at most ${pathLimit}x naive (${r.kind})`,
        pathLimit,
        cpu ? r.ratios.coldPathCpu : r.ratios.coldPath,
      );
      const naivePathMs = cpu ? r.naive.coldPath?.cpuAboveNodeMs : r.naive.coldPath?.aboveNodeMs;
      if (naivePathMs !== undefined && naivePathMs < budgets.ratioAppliesAboveNaiveMs) skip(naivePathMs, 'cold path');
    }
  }
  for (const [name, limit] of Object.entries(budgets.pathColdRatio) as Array<[ColdPathName, number]>) {
    const total = paths[name];
    check(
      `path.${name}.cold-ratio`,
      `${name} path (${COLD_PATHS[name].join(' + ')}): cold total (${metric}) at most ${limit}x naive`,
      limit,
      total ? (cpu ? total.ratioCpu : total.ratio) : undefined,
    );
  }
  check('build', `all bundles built in under ${budgets.buildMs} ms (median wall time of the build command)`, budgets.buildMs, build.wallMedianMs);
  check('synth', `synth in under ${budgets.synthMs} ms (median wall time of node --import tsx main.ts)`, budgets.synthMs, 'error' in synth ? null : synth.wallMedianMs);
  return checks;
}

function pad(value: unknown, width: number, right = true): string {
  const s = String(value ?? '-');
  return right ? s.padStart(width) : s.padEnd(width);
}

function kb(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

function printTable(
  results: FunctionResult[],
  baseline: { medianMs: number; cpuMedianMs: number },
  build: { wallMedianMs: number; inProcessMedianMs?: number },
  synth: unknown,
  sandbox: SandboxResult,
  checks: BudgetCheck[],
  machine: MachineCalibration & { errors: readonly string[] },
  paths: Partial<Record<ColdPathName, PathTotal>>,
  floor: ColdPathFigures | undefined,
) {
  const lines: string[] = [];
  lines.push(
    [
      pad('function', 24, false),
      pad('js KiB', 8),
      pad('naive', 8),
      pad('ratio', 6),
      pad('zip KiB', 8),
      pad('naive', 8),
      pad('ratio', 6),
      pad('load ms', 8),
      pad('naive', 7),
      pad('ratio', 6),
      pad('cpu ms', 7),
      pad('naive', 7),
      pad('ratio', 6),
      pad('same-src', 8),
      pad('ratio', 6),
      pad('warm p50', 9),
      pad('p99', 7),
    ].join(' '),
  );
  for (const r of results) {
    lines.push(
      [
        pad(r.name, 24, false),
        pad(kb(r.ours.indexBytes), 8),
        pad(kb(r.naive.indexBytes), 8),
        pad(r.ratios.indexSize.toFixed(2), 6),
        pad(kb(r.ours.zipBytes), 8),
        pad(kb(r.naive.zipBytes), 8),
        pad(r.ratios.zipSize.toFixed(2), 6),
        pad(r.ours.load?.aboveNodeMs.toFixed(1), 8),
        pad(r.naive.load?.aboveNodeMs.toFixed(1), 7),
        pad(r.ratios.load?.toFixed(2), 6),
        pad(r.ours.load?.cpuAboveNodeMs.toFixed(1), 7),
        pad(r.naive.load?.cpuAboveNodeMs.toFixed(1), 7),
        pad(r.ratios.loadCpu?.toFixed(2), 6),
        pad(r.sameSource?.load?.cpuAboveNodeMs.toFixed(1), 8),
        pad(r.ratios.loadCpuSameSource?.toFixed(2), 6),
        pad(r.warm?.p50Ms.toFixed(3), 9),
        pad(r.warm?.p99Ms.toFixed(3), 7),
      ].join(' '),
    );
  }
  lines.push(
    `load ms = median wall time of a fresh process loading the bundle, above bare node (${baseline.medianMs.toFixed(1)} ms in this run); ` +
      `cpu ms = the same in CPU time (bare node ${baseline.cpuMedianMs.toFixed(1)} ms); warm = handler latency in ms`,
    'naive = the budgets\' baseline: the same source built with esbuild\'s defaults (no minify, default main fields), full package imports ' +
      '(@aws-crypto/client-node for the narrow @aws-crypto packages) and, for the senders, the vendor SDKs (@sendgrid/mail, twilio; bench/naive/) ' +
      'in place of our direct REST calls',
    'same-src = informational, not a budget: the naive build with our REST provider modules kept, so only esbuild options and the @aws-crypto ' +
      'index differ (cpu ms above bare node, and ours / it); shown only where it differs from naive (the senders)',
  );
  lines.push(
    '',
    [
      pad('cold path', 24, false),
      pad('load cpu', 9),
      pad('naive', 7),
      pad('1st cpu', 8),
      pad('naive', 7),
      pad('cpu ms', 7),
      pad('naive', 7),
      pad('ratio', 6),
      pad('wall ms', 8),
      pad('naive', 7),
      pad('ratio', 6),
      pad('1st wall', 9),
      pad('RSS MiB', 8),
      pad('naive', 6),
    ].join(' '),
  );
  for (const r of results) {
    lines.push(
      [
        pad(r.name, 24, false),
        pad(r.ours.load?.cpuAboveNodeMs.toFixed(1), 9),
        pad(r.naive.load?.cpuAboveNodeMs.toFixed(1), 7),
        pad(r.ours.coldPath?.firstCallCpuMs.toFixed(1), 8),
        pad(r.naive.coldPath?.firstCallCpuMs.toFixed(1), 7),
        pad(r.ours.coldPath?.cpuAboveNodeMs.toFixed(1), 7),
        pad(r.naive.coldPath?.cpuAboveNodeMs.toFixed(1), 7),
        pad(r.ratios.coldPathCpu?.toFixed(2), 6),
        pad(r.ours.coldPath?.aboveNodeMs.toFixed(1), 8),
        pad(r.naive.coldPath?.aboveNodeMs.toFixed(1), 7),
        pad(r.ratios.coldPath?.toFixed(2), 6),
        pad(r.ours.coldPath?.firstCallMs.toFixed(1), 9),
        pad(r.ours.coldPath?.peakRssMiB.toFixed(0), 8),
        pad(r.naive.coldPath?.peakRssMiB.toFixed(0), 6),
      ].join(' '),
    );
  }
  for (const [name, t] of Object.entries(paths)) {
    lines.push(
      `${name} path (${t.functions.join(' + ')}): cold total ${t.ours.cpuMs.toFixed(1)} ms CPU vs ${t.naive.cpuMs.toFixed(1)} naive (ratio ${t.ratioCpu.toFixed(2)}), ` +
        `${t.ours.wallMs.toFixed(1)} ms wall vs ${t.naive.wallMs.toFixed(1)} (ratio ${t.ratio.toFixed(2)})` +
        (t.floor ? `; at the floor ${t.floor.cpuMs.toFixed(1)} ms CPU (ratio ${t.floor.ratioCpu.toFixed(2)})` : ''),
    );
  }
  if (floor) {
    lines.push(
      `floor (${FLOOR_PROBE}: the logger, node:https and node:crypto loaded, one unsigned request): cold path ${floor.cpuAboveNodeMs.toFixed(1)} ms CPU, ` +
        `${floor.firstCallCpuMs.toFixed(1)} of them the request; ${floor.aboveNodeMs.toFixed(1)} ms wall`,
    );
  }
  lines.push(
    'cold path = a fresh process on the Lambda runtime\'s Node.js loads the bundle, then runs its first invocation against the local stub; ' +
      'cpu ms and wall ms are above bare node, 1st = the first invocation alone; RSS = peak resident set at the end of it, runtime included',
    '',
  );
  const calibrated = Object.entries(machine.builds)
    .map(([variant, f]) => `${variant} ${f.measuredMs.toFixed(1)} ms vs ${f.referenceMs} ms stated (${f.factor.toFixed(2)})`)
    .join(', ');
  lines.push(
    `machine factor ${machine.factor.toFixed(2)}: the calibration DynamoDB client loaded ${calibrated || 'not at all'}` +
      `${machine.note ? ` (${machine.note})` : ''}; load caps are judged on measured / factor`,
  );
  for (const e of machine.errors) lines.push(`ERROR ${e.split('\n').slice(0, 6).join(' | ')}`);
  lines.push(`build: ${build.wallMedianMs.toFixed(0)} ms wall (${build.inProcessMedianMs?.toFixed(0) ?? '?'} ms in esbuild+zip); synth: ${JSON.stringify(synth)}`);
  if (sandbox.status === 'measured' && sandbox.operations) {
    for (const [op, f] of Object.entries(sandbox.operations)) {
      lines.push(`sandbox ${op}: ${f.withTriggersMs.toFixed(1)} ms with triggers, ${f.withoutTriggersMs.toFixed(1)} ms without, ratio ${f.ratio.toFixed(2)}`);
    }
    if (sandbox.journey) {
      const j = sandbox.journey;
      lines.push(`sandbox journey (sign-up + confirm + sign-in, ${sandbox.users} users): ${j.withTriggersMs.toFixed(1)} ms with triggers, ${j.withoutTriggersMs.toFixed(1)} ms without, ratio ${j.ratio.toFixed(2)}`);
    }
  } else {
    lines.push(`sandbox end-to-end: ${sandbox.status} (${sandbox.reason ?? ''})`);
  }
  for (const r of results) for (const e of r.errors) lines.push(`ERROR ${r.name}: ${e.split('\n').slice(0, 6).join(' | ')}`);
  for (const r of results) {
    if (r.warm && Object.keys(r.warm.errors).length) lines.push(`WARN ${r.name}: warm handler threw ${JSON.stringify(r.warm.errors)}`);
    if (r.warm && r.warm.unknownCalls.length) lines.push(`WARN ${r.name}: stub had no answer for ${r.warm.unknownCalls.join(', ')}`);
  }
  for (const c of checks) lines.push(`${c.skipped ? 'SKIP' : c.pass ? 'PASS' : 'FAIL'} ${c.description}: ${c.actual ?? 'not measured'}${c.skipped ? ` (${c.skipped})` : ''}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printExperiments(e: ExperimentsResult): void {
  const lines = [
    `experiments (bare node ${e.baselineMedianMs} ms wall, ${e.baselineCpuMedianMs} ms CPU; ${e.rounds} rounds): ` +
      'wall and CPU above bare node, in-process require, index.js / map / zip KiB',
  ];
  for (const v of e.variants) {
    lines.push(
      [
        pad(v.id, 44, false),
        pad(Number.isFinite(v.aboveNodeMs) ? v.aboveNodeMs.toFixed(1) : '-', 7),
        pad(Number.isFinite(v.cpuAboveNodeMs) ? v.cpuAboveNodeMs.toFixed(1) : '-', 7),
        pad(Number.isFinite(v.requireMedianMs) ? v.requireMedianMs.toFixed(1) : '-', 7),
        pad(kb(v.indexBytes), 8),
        pad(kb(v.mapBytes), 8),
        pad(kb(v.zipBytes), 8),
        ` ${v.description}${v.error ? ` ERROR ${v.error}` : ''}`,
      ].join(' '),
    );
  }
  for (const [id, w] of Object.entries(e.logging ?? {})) lines.push(`warm ${id}: p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<number> {
  if (args['experiments-only']) {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'cognito-bench-'));
    try {
      const experiments = await runExperiments(path.join(tmp, 'experiments'), rounds, invocations, log);
      await writeFile(outFile, `${JSON.stringify({ meta: { date: new Date().toISOString(), mode: 'experiments', machine: await machine() }, experiments }, null, 2)}\n`);
      printExperiments(experiments);
      return 0;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  const budgets = JSON.parse(await readFile(path.join(repoRoot, 'bench', 'budgets.json'), 'utf8')) as Budgets;
  const started = new Date();
  const meta = { date: started.toISOString(), mode: smoke ? 'smoke' : 'full', rounds, invocations, machine: await machine() };
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cognito-bench-'));
  try {
    // Build: the exact command `make build` runs, into a directory outside the repo (no package.json
    // above it, like /var/task), several times; the last build's output is what gets measured.
    const buildWalls: number[] = [];
    const buildInProcess: number[] = [];
    const stage: Record<Variant, string> = { ours: path.join(tmp, 'ours'), naive: path.join(tmp, 'naive'), sameSource: path.join(tmp, 'same-source') };
    for (let i = 0; i < buildRuns; i++) {
      const t = await timeBuild(stage.ours);
      buildWalls.push(t.wallMs);
      if (t.inProcessMs !== undefined) buildInProcess.push(t.inProcessMs);
    }
    const build = {
      runs: buildRuns,
      wallMedianMs: round(median(buildWalls)),
      ...(buildInProcess.length ? { inProcessMedianMs: round(median(buildInProcess)) } : {}),
      wallRawMs: buildWalls.map((w) => round(w)),
    };
    log(`build ${build.wallMedianMs} ms`);
    await buildNaive(stage.naive, 'naive');
    await buildNaive(stage.sameSource, 'same-source');
    log('naive builds done');

    const results: FunctionResult[] = [];
    for (const f of selected) {
      const ours = await sizes(stage.ours, f.name);
      const naive = await sizes(stage.naive, f.name);
      const differs = !(await sameBytes(path.join(stage.naive, f.name, 'index.js'), path.join(stage.sameSource, f.name, 'index.js')));
      results.push({
        name: f.name,
        kind: f.kind,
        ours,
        naive,
        ...(differs ? { sameSource: await sizes(stage.sameSource, f.name) } : {}),
        ratios: { indexSize: round(ours.indexBytes / naive.indexBytes, 3), zipSize: round(ours.zipBytes / naive.zipBytes, 3) },
        errors: [],
      });
    }

    const calibrationBundles = await buildCalibration(path.join(tmp, 'calibration'));
    const stub = await startStubServer();
    let cold: Awaited<ReturnType<typeof measureCold>>;
    let machineCalibration: ReturnType<typeof calibrate>;
    try {
      const encryptedCode = await encryptCode('123456', stub.url, USER_POOL_ID);
      const events = new Map<FunctionName, string>();
      await mkdir(path.join(tmp, 'events'));
      for (const r of results) {
        const file = path.join(tmp, 'events', `${r.name}.json`);
        await writeFile(file, JSON.stringify(benchEvent(r.name, { encryptedCode })));
        events.set(r.name, file);
      }
      cold = await measureCold(stage, results, calibrationBundles, { stub, events, floorBundle: await buildFloor(path.join(tmp, 'floor')) });
      machineCalibration = calibrate(budgets, cold.calibrationLoads, cold.calibrationErrors);
      log(`machine factor ${machineCalibration.factor}`);
      for (const r of results) {
        if (r.errors.some((e) => e.startsWith('ours'))) continue;
        try {
          r.warm = await measureWarm(r.name, path.join(stage.ours, r.name, 'index.js'), benchEvent(r.name, { encryptedCode }), stub, invocations);
          log(`warm ${r.name} p50 ${r.warm.p50Ms} ms`);
        } catch (error) {
          r.errors.push(`warm: ${(error as Error).message}`);
        }
      }
    } finally {
      await stub.close();
    }

    let sandbox: SandboxResult;
    try {
      sandbox = await measureSandbox(sandboxUsers);
    } catch (error) {
      sandbox = { status: 'error', reason: (error as Error).message };
    }
    log(`sandbox ${sandbox.status}`);

    let synth: { runs: number; wallMedianMs: number; wallRawMs: number[] } | { error: string };
    try {
      const walls: number[] = [];
      for (let i = 0; i < synthRuns; i++) walls.push((await timeSynth(path.join(tmp, `synth-${i}`))).wallMs);
      synth = { runs: synthRuns, wallMedianMs: round(median(walls)), wallRawMs: walls.map((w) => round(w)) };
    } catch (error) {
      synth = { error: (error as Error).message.slice(0, 500) };
    }

    log(`synth ${'error' in synth ? 'failed' : `${synth.wallMedianMs} ms`}`);
    let experiments: ExperimentsResult | undefined;
    if (args.experiments) experiments = await runExperiments(path.join(tmp, 'experiments'), smoke ? 1 : rounds, invocations, log);

    const paths = pathTotals(results, cold.floor);
    const baseline = cold.baseline;
    const checks = evaluateBudgets(budgets, results, paths, build, synth, machineCalibration);
    const floor = cold.floor;
    const output = { meta, budgets, baseline, machineCalibration, functions: results, ...(floor ? { floor } : {}), paths, build, synth, sandbox, checks, ...(experiments ? { experiments } : {}) };
    await writeFile(outFile, `${JSON.stringify(output, null, 2)}\n`);
    printTable(results, baseline, build, 'error' in synth ? synth : { wallMedianMs: synth.wallMedianMs }, sandbox, checks, machineCalibration, paths, floor);
    if (experiments) printExperiments(experiments);
    log(`wrote ${path.relative(process.cwd(), outFile)}`);

    if (smoke) return 0;
    const failed = checks.filter((c) => !c.pass).length;
    const broken = results.filter((r) => r.errors.length).length + (machineCalibration.errors.length ? 1 : 0);
    log(`${checks.length - failed}/${checks.length} budgets pass${broken ? `; ${broken} functions had errors` : ''}`);
    return failed || broken ? 1 : 0;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[bench] harness failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
