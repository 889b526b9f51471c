/**
 * `make bench`: cold load, bundle size, warm latency, sandbox latency, build and synth time, all in
 * one run, each against a baseline measured in the same run (machines here are noisy, so budgets are
 * ratios). Writes bench/results.json, prints a table and PASS/FAIL per budget in bench/budgets.json.
 *
 *   node --import tsx bench/run.ts            full run; exits 1 when a budget fails
 *   node --import tsx bench/run.ts --smoke    one quick round; exits 0 unless the harness breaks
 *   options: --rounds N  --invocations N  --only a,b  --out FILE
 *            --experiments (also run build-option and import-cost experiments), --experiments-only
 *            --no-tls (skip the cold-path rounds over TLS, bench/lib/tls.ts)
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FUNCTIONS, type FunctionName } from '../functions/catalog.ts';
import { buildNaive, repoRoot, timeBuild, timeSynth } from './lib/builds.ts';
import { encryptCode } from './lib/ciphertext.ts';
import { timeBareNode, timeColdPath, timeLoad, type ColdPathSample, type ProcessSample } from './lib/cold.ts';
import { buildFloor, FLOOR_PROBE } from './lib/floor.ts';
import { functionEnv } from './lib/env.ts';
import { benchEvent, USER_POOL_ID } from './lib/events.ts';
import { measureSandbox, type SandboxResult } from './lib/sandbox-e2e.ts';
import { median, round, shuffled } from './lib/stats.ts';
import { startStubServer, type StubServer } from './lib/stub-server.ts';
import { lambdaNode } from '../sandbox/lambda/node.ts';
import { measureWarm } from './lib/warm.ts';
import { runExperiments, type ExperimentsResult } from './lib/experiments.ts';
import { buildCalibration, CALIBRATION_BUILDS, type CalibrationBuild } from './lib/calibration.ts';
import { calibrate, evaluateBudgets } from './lib/budgets.ts';
import { printExperiments, printTable, printTls } from './lib/report.ts';
import { measureColdOverTls, type TlsResult } from './lib/tls.ts';
import { coldPathFigures, loadFigures, pathTotals, type Budgets, type FunctionResult, type LoadFigures, type Sizes } from './lib/results.ts';

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
    'no-tls': { type: 'boolean', default: false },
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

/** Where each function's cold path runs: its event on disk and the stub its endpoints point at. */
interface ColdPathSetup {
  readonly stub: StubServer;
  /** Event file per function. */
  readonly events: ReadonlyMap<FunctionName, string>;
  /** The floor probe's bundle (bench/lib/floor.ts), run in the same rounds as the functions. */
  readonly floorBundle: string;
  /** The floor probe's event file, written whichever functions were selected. */
  readonly floorEvent: string;
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
  // The calibration workload loads in a plain node, as its reference figures were measured, against a plain node.
  const plainBaseline: ProcessSample[] = [];
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
      const plainNode = 'calibrate' in task;
      const bare = await timeBareNode(bareEnv, { plainNode });
      try {
        if ('calibrate' in task) {
          const sample = await timeLoad(calibration[task.calibrate], { env: bareEnv, plainNode });
          if (record) samples.set(key, [...(samples.get(key) ?? []), sample]);
        } else if ('floor' in task) {
          // The probe only sends its one request, to pre-authentication's endpoint, with its event.
          const sample = await timeColdPath(setup.floorBundle, setup.floorEvent, FLOOR_PROBE, functionEnv('pre-authentication', setup.stub.url));
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
        if (record) (plainNode ? plainBaseline : baseline).push(bare);
      } catch (error) {
        failed.add(key);
        if ('calibrate' in task) calibrationErrors.push(`calibration ${task.calibrate} failed to load: ${(error as Error).message}`);
        else if ('floor' in task) calibrationErrors.push(`${FLOOR_PROBE} failed its cold start: ${(error as Error).message}`);
        else task.r.errors.push(`${task.variant} bundle failed its cold start: ${(error as Error).message}`);
      }
    }
    log(`cold round ${round + 1}/${totalRounds}${record ? '' : ' (warm-up, discarded)'}`);
  }
  const medians = (xs: readonly ProcessSample[]) => ({ wall: median(xs.map((b) => b.wallMs)), cpu: median(xs.map((b) => b.cpuMs)) });
  const base = medians(baseline);
  const plainBase = medians(plainBaseline);
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
    if (figures) calibrationLoads[variant] = loadFigures(figures, plainBase);
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
    let tls: TlsResult | { error: string } | undefined;
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
      const floorBundle = await buildFloor(path.join(tmp, 'floor'));
      const floorEvent = path.join(tmp, 'events', 'floor.json');
      await writeFile(floorEvent, JSON.stringify(benchEvent('pre-authentication', { encryptedCode })));
      cold = await measureCold(stage, results, calibrationBundles, { stub, events, floorBundle, floorEvent });
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
      if (!args['no-tls']) {
        try {
          await mkdir(path.join(tmp, 'tls'));
          tls = await measureColdOverTls({ stage, results, events, floorBundle, floorEvent, dir: path.join(tmp, 'tls'), rounds, log });
        } catch (error) {
          tls = { error: (error as Error).message.slice(0, 500) };
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

    const paths = pathTotals(results, cold.floor, cold.baseline.rawCpuMs);
    const baseline = cold.baseline;
    const checks = evaluateBudgets(budgets, results, paths, build, synth, machineCalibration, baseline);
    const floor = cold.floor;
    const output = { meta, budgets, baseline, machineCalibration, functions: results, ...(floor ? { floor } : {}), paths, ...(tls ? { tls } : {}), build, synth, sandbox, checks, ...(experiments ? { experiments } : {}) };
    await writeFile(outFile, `${JSON.stringify(output, null, 2)}\n`);
    printTable(results, baseline, build, 'error' in synth ? synth : { wallMedianMs: synth.wallMedianMs }, sandbox, checks, machineCalibration, paths, floor);
    if (tls) printTls(tls);
    if (experiments) printExperiments(experiments);
    log(`wrote ${path.relative(process.cwd(), outFile)}`);

    if (smoke) return 0;
    const failed = checks.filter((c) => !c.pass).length;
    const broken = [
      ...results.filter((r) => r.errors.length).map((r) => r.name),
      ...(machineCalibration.errors.length ? ['the calibration workload or the floor probe'] : []),
      ...(tls && 'error' in tls ? ['the rounds over TLS'] : []),
    ];
    log(`${checks.length - failed}/${checks.length} budgets pass${broken.length ? `; errors in ${broken.join(', ')}` : ''}`);
    return failed || broken.length ? 1 : 0;
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
