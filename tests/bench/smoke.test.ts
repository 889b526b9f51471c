/**
 * Keeps the benchmark from rotting: runs `bench/run.ts --smoke` (one round, a few invocations) into
 * a temporary results file and checks that every function in the catalog was measured and that the
 * results carry every figure the benchmark promises. Timing values are not asserted: a test is no place
 * for timing, `make bench` is.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FUNCTIONS } from '../../functions/catalog.ts';
import { LAMBDA_NODE_MAJOR } from '../../functions/runtime.ts';
import { COLD_PATHS } from '../../bench/lib/paths.ts';
import { quantile } from '../../bench/lib/stats.ts';
import { SDK_FREE_FUNCTIONS } from '../../scripts/build.ts';
import type { ColdPathFigures as ColdPath } from '../../bench/lib/results.ts';
import { TLS_FUNCTIONS, type TlsResult } from '../../bench/lib/tls.ts';

const root = path.resolve(import.meta.dirname, '../..');

interface SmokeResults {
  meta: { mode: string; date: string; machine: { nproc: number; cpuModel: string; node: string; functionsNode: string } };
  baseline: { medianMs: number; samples: number; rawCpuMs: number[] };
  functions: Array<{
    name: string;
    kind: string;
    ours: { indexBytes: number; zipBytes: number; load?: { medianMs: number; aboveNodeMs: number; rawMs: number[] }; coldPath?: ColdPath };
    naive: { indexBytes: number; zipBytes: number; load?: { medianMs: number; aboveNodeMs: number; rawMs: number[] }; coldPath?: ColdPath };
    sameSource?: { indexBytes: number; zipBytes: number; load?: { medianMs: number; aboveNodeMs: number; rawMs: number[] } };
    ratios: { indexSize: number; zipSize: number; load?: number; loadSameSource?: number; coldPath?: number; coldPathCpu?: number };
    warm?: { invocations: number; p50Ms: number; p99Ms: number; errors: Record<string, number>; unknownCalls: string[] };
    errors: string[];
  }>;
  floor?: ColdPath;
  paths: Record<
    string,
    { functions: string[]; ours: { cpuMs: number; wallMs: number }; naive: { cpuMs: number; wallMs: number }; ratio: number; ratioCpu: number; floor?: { cpuMs: number; ratioCpu: number }; lowerQuartile?: { ratioCpu: number } }
  >;
  tls?: TlsResult | { error: string };
  machineCalibration: { factor: number; builds: Record<string, { measuredMs: number; referenceMs: number; factor: number }>; errors: string[] };
  build: { wallMedianMs: number };
  synth: { wallMedianMs?: number; error?: string };
  sandbox: { status: string; reason?: string };
  checks: Array<{ id: string; limit: number; actual: number | null; pass: boolean; skipped?: string; interval?: [number, number] }>;
}

let running: ChildProcess | undefined;

function runSmoke(out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = (running = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', CHECKPOINT_DISABLE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a timed-out run is stopped with everything it started.
      detached: true,
    }));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      running = undefined;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('benchmark smoke run (bench/run.ts --smoke)', function () {
  // Builds twice (ours and naive), spawns a few dozen node processes, starts two sandboxes and
  // synthesises twice: about 40 s on an idle 2-core machine, several minutes on a busy one.
  this.timeout(600_000);

  let dir: string;
  let results: SmokeResults;
  let run: { code: number | null; stdout: string; stderr: string };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bench-smoke-'));
    run = await runSmoke(path.join(dir, 'results.json'));
    results = JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as SmokeResults;
  });

  after(async () => {
    if (running?.pid) process.kill(-running.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 and prints the table with a verdict per budget', () => {
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^function\s+js KiB/m);
    expect(run.stdout).to.match(/^(PASS|FAIL|SKIP) /m);
  });

  it('names the machine and the date the figures come from', () => {
    expect(results.meta.mode).to.equal('smoke');
    expect(Number.isNaN(Date.parse(results.meta.date))).to.equal(false);
    expect(results.meta.machine.nproc).to.be.greaterThan(0);
    expect(results.meta.machine.cpuModel).to.be.a('string').and.not.equal('');
    expect(results.meta.machine.node).to.equal(process.version);
    expect(results.meta.machine.functionsNode, 'the functions run on the Lambda runtime\'s Node.js').to.match(new RegExp(`^v${LAMBDA_NODE_MAJOR}\\.`));
  });

  it('measures every catalogued function: sizes, cold load against bare node and naive, and warm latency', () => {
    expect(results.functions.map((f) => f.name)).to.deep.equal(FUNCTIONS.map((f) => f.name));
    expect(results.baseline.samples).to.be.greaterThan(0);
    for (const f of results.functions) {
      expect(f.errors, f.name).to.deep.equal([]);
      expect(f.ours.indexBytes, f.name).to.be.greaterThan(0);
      expect(f.ours.zipBytes, f.name).to.be.greaterThan(0);
      expect(f.naive.indexBytes, f.name).to.be.greaterThan(0);
      expect(f.ours.load?.rawMs.length, f.name).to.be.greaterThan(0);
      expect(f.naive.load?.rawMs.length, f.name).to.be.greaterThan(0);
      expect(f.ratios.indexSize, f.name).to.be.a('number').and.be.greaterThan(0);
      expect(f.ratios.load, f.name).to.be.a('number');
      expect(f.warm?.invocations, f.name).to.be.greaterThan(0);
      expect(f.warm?.p99Ms, f.name).to.be.at.least(f.warm?.p50Ms ?? Infinity);
    }
  });

  it('measures every function\'s cold path, load and first invocation in one process, ours and naive, with its peak RSS', () => {
    for (const f of results.functions) {
      for (const variant of ['ours', 'naive'] as const) {
        const cold = f[variant].coldPath;
        expect(cold?.rawCpuMs.length, `${f.name} ${variant}`).to.be.greaterThan(0);
        // The first invocation runs inside the cold path: in each process it costs less than the whole.
        // (Compared process by process: the figure above bare node subtracts another process's time,
        // which on this machine's slow phases can exceed what the load cost.)
        expect(cold!.firstCallCpuMs, `${f.name} ${variant}`).to.be.greaterThan(0);
        cold!.rawFirstCallCpuMs.forEach((call, i) => expect(call, `${f.name} ${variant} process ${i}`).to.be.below(cold!.rawCpuMs[i]!));
        expect(cold!.firstCallMs, `${f.name} ${variant}`).to.be.greaterThan(0);
        expect(cold!.peakRssMiB, `${f.name} ${variant}`).to.be.greaterThan(10).and.below(1024);
      }
      // One process per build: a figure above bare node can come out near zero, or below it, on a slow phase.
      expect(f.ratios.coldPathCpu, f.name).to.be.a('number').and.satisfy(Number.isFinite);
      expect(f.ratios.coldPath, f.name).to.be.a('number').and.satisfy(Number.isFinite);
    }
    expect(run.stdout).to.match(/^cold path\s+load cpu/m);
  });

  it('sums the sign-in and sign-up paths from their triggers\' cold paths and budgets them', () => {
    expect(Object.keys(results.paths)).to.have.members(Object.keys(COLD_PATHS));
    for (const [name, members] of Object.entries(COLD_PATHS)) {
      const total = results.paths[name]!;
      expect(total.functions, name).to.deep.equal(members);
      const sum = members.reduce((t, m) => t + results.functions.find((f) => f.name === m)!.ours.coldPath!.cpuAboveNodeMs, 0);
      expect(total.ours.cpuMs, name).to.be.closeTo(sum, 0.1);
      expect(total.ratioCpu, name).to.be.closeTo(total.ours.cpuMs / total.naive.cpuMs, 0.01);
      expect(results.checks.map((c) => c.id), name).to.include(`path.${name}.cold-ratio`);
      const bare = quantile(results.baseline.rawCpuMs, 0.25);
      const atQuartile = (variant: 'ours' | 'naive') =>
        members.reduce((t, m) => t + quantile(results.functions.find((f) => f.name === m)![variant].coldPath!.rawCpuMs, 0.25) - bare, 0);
      expect(total.lowerQuartile?.ratioCpu, `${name} at the lower quartile`).to.be.closeTo(atQuartile('ours') / atQuartile('naive'), 0.001);
    }
    expect(run.stdout).to.match(/^sign-in path \(pre-authentication \+ post-authentication \+ pre-token-generation\): cold total/m);
    expect(run.stdout).to.match(/CPU ratio at every figure's lower quartile [\d.]+ \(informational\)/);
  });

  it('measures the floor probe in the same rounds and puts each path at its floor, each trigger at the probe or below', () => {
    const floor = results.floor;
    expect(floor?.rawCpuMs.length, 'floor probe samples').to.be.greaterThan(0);
    expect(floor!.firstCallCpuMs).to.be.greaterThan(0);
    floor!.rawFirstCallCpuMs.forEach((call, i) => expect(call, `floor process ${i}`).to.be.below(floor!.rawCpuMs[i]!));
    for (const [name, members] of Object.entries(COLD_PATHS)) {
      const atFloor = members.reduce((t, m) => t + Math.min(results.functions.find((f) => f.name === m)!.ours.coldPath!.cpuAboveNodeMs, floor!.cpuAboveNodeMs), 0);
      expect(results.paths[name]!.floor?.cpuMs, name).to.be.closeTo(atFloor, 0.1);
      expect(results.paths[name]!.floor!.cpuMs, name).to.be.at.most(results.paths[name]!.ours.cpuMs + 0.1);
    }
    expect(run.stdout).to.match(/^floor \(floor-one-request: .*\): cold path [\d.]+ ms CPU/m);
  });

  it('measures every synchronous trigger\'s cold path again over TLS, ours and naive, against a chain the functions verify', () => {
    expect(results.tls, 'tls').to.not.equal(undefined);
    expect(results.tls, 'tls error').to.not.have.property('error');
    const tls = results.tls as TlsResult;
    expect(Object.keys(tls.functions)).to.have.members([...TLS_FUNCTIONS]);
    for (const name of TLS_FUNCTIONS) {
      const f = tls.functions[name]!;
      expect(f.ours.rawCpuMs.length, name).to.be.greaterThan(0);
      expect(f.naive.rawCpuMs.length, name).to.be.greaterThan(0);
      expect(f.ratioCpu, name).to.be.closeTo(f.ours.cpuAboveNodeMs / f.naive.cpuAboveNodeMs, 0.01);
    }
    // Connections counted at the stub: the handshake happened, and only where the function calls AWS.
    expect(tls.connections['pre-authentication/ours']).to.be.at.least(1);
    expect(tls.connections['post-authentication/ours']).to.be.at.least(1);
    expect(tls.connections['pre-token-generation/ours']).to.equal(0);
    expect(tls.connections['floor-one-request']).to.equal(1);
    expect(Object.keys(tls.paths)).to.have.members(Object.keys(COLD_PATHS));
    expect(run.stdout).to.match(/^sign-in path over TLS: cold total [\d.]+ ms CPU/m);
  });

  it('builds the naive baseline with the SDKs our own clients replace and reports the same-source baseline beside it', () => {
    const senders = results.functions.filter((f) => f.kind === 'async-trigger');
    expect(senders.map((f) => f.name)).to.have.members(['custom-email-sender', 'custom-sms-sender']);
    // The senders' vendor SDKs and the AWS SDK clients of the synchronous triggers that call AWS through our client (bench/naive/).
    const noAwsCalls = ['custom-message', 'pre-token-generation', 'define-auth-challenge'];
    const substituted = (f: (typeof results.functions)[number]) => f.kind === 'async-trigger' || (SDK_FREE_FUNCTIONS.has(f.name) && !noAwsCalls.includes(f.name));
    for (const f of results.functions) {
      if (!substituted(f)) {
        // Nothing to substitute: the two naive builds are byte-identical, so only one is measured.
        expect(f.sameSource, f.name).to.equal(undefined);
        continue;
      }
      // A vendor SDK is larger than our REST calls. A trigger's same-source build is not smaller than its naive one:
      // without the production build's command-class swap it carries the SDK's command packages beside our client.
      if (f.kind === 'async-trigger') expect(f.naive.indexBytes, f.name).to.be.greaterThan(f.sameSource?.indexBytes ?? Infinity);
      else expect(f.sameSource?.indexBytes, f.name).to.be.a('number');
      expect(f.sameSource?.load?.rawMs.length, f.name).to.be.greaterThan(0);
      expect(f.ratios.loadSameSource, f.name).to.be.a('number');
    }
    expect(run.stdout).to.match(/^naive = the budgets' baseline/m);
    expect(run.stdout).to.match(/^same-src = informational, not a budget/m);
  });

  it('answers every remote call the functions make from the stub, so warm figures are for the success path', () => {
    for (const f of results.functions) {
      expect(f.warm?.unknownCalls, f.name).to.deep.equal([]);
      expect(f.warm?.errors, f.name).to.deep.equal({});
    }
  });

  it('measures the calibration workload both ways and judges each load cap on measured / machine factor', () => {
    expect(results.machineCalibration.errors).to.deep.equal([]);
    expect(Object.keys(results.machineCalibration.builds)).to.have.members(['tree-shaken', 'esbuild-defaults']);
    expect(results.machineCalibration.factor).to.be.greaterThan(0);
    expect(run.stdout).to.match(/^machine factor \d+\.\d\d: the calibration DynamoDB client loaded tree-shaken/m);
    const caps = results.checks.filter((c) => c.id.endsWith('.load-ms'));
    expect(caps).to.have.length(FUNCTIONS.length);
    for (const c of caps) {
      const measured = (c as { measured?: number }).measured;
      expect(measured, c.id).to.be.a('number');
      expect(c.actual, c.id).to.be.closeTo(measured! / results.machineCalibration.factor, 0.06);
    }
  });

  it('times the build and the synth, reports the sandbox state and checks every budget', () => {
    expect(results.build.wallMedianMs).to.be.greaterThan(0);
    expect(results.synth.error, 'synth failed').to.equal(undefined);
    expect(results.synth.wallMedianMs).to.be.greaterThan(0);
    // The sandbox has its own suite; here it only has to be reported, with a reason when not measured.
    expect(['measured', 'pending', 'error']).to.include(results.sandbox.status);
    if (results.sandbox.status !== 'measured') expect(results.sandbox.reason).to.be.a('string').and.not.equal('');
    const ids = results.checks.map((c) => c.id);
    for (const f of FUNCTIONS) expect(ids).to.include.members([`${f.name}.size`, `${f.name}.load-ratio`, `${f.name}.load-ms`]);
    for (const f of FUNCTIONS.filter((s) => s.kind === 'sync-trigger')) expect(ids).to.include(`${f.name}.cold-path-ratio`);
    expect(ids).to.include.members(['build', 'synth']);
  });

  it('gives every judged ratio its bootstrap interval, which one sample per build narrows to the ratio itself', () => {
    const ratios = results.checks.filter((c) => /\.(load-ratio|cold-path-ratio|cold-ratio)$/.test(c.id) && !c.skipped && c.actual !== null);
    expect(ratios.length).to.be.greaterThan(FUNCTIONS.length);
    for (const c of ratios) {
      expect(c.interval, c.id).to.be.an('array').with.length(2);
      // --smoke measures each build once, so every resample is that one sample.
      expect(c.interval![0], c.id).to.equal(c.interval![1]);
      expect(c.interval![0], c.id).to.be.closeTo(c.actual!, 0.01);
    }
    for (const c of results.checks.filter((k) => k.skipped)) expect(c.interval, c.id).to.equal(undefined);
    expect(run.stdout).to.match(/^(PASS|FAIL) sign-in path .*\(90% interval [\d.]+–[\d.]+/m);
  });
});
