/** The tables `make bench` prints: one row per function, the paths, the floor, the rounds over TLS, the calibration and the verdicts. */
import type { MachineCalibration } from './calibration.ts';
import type { ExperimentsResult } from './experiments.ts';
import { FLOOR_PROBE } from './floor.ts';
import type { ColdPathName } from './paths.ts';
import type { BudgetCheck, ColdPathFigures, FunctionResult, PathTotal } from './results.ts';
import type { SandboxResult } from './sandbox-e2e.ts';
import { INTERVAL_LEVEL } from './stats.ts';
import type { TlsResult } from './tls.ts';

function pad(value: unknown, width: number, right = true): string {
  const s = String(value ?? '-');
  return right ? s.padStart(width) : s.padEnd(width);
}

function kb(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

/** A ratio check's bootstrap interval, and whether its limit lies inside it. */
function interval(c: BudgetCheck): string {
  if (!c.interval) return '';
  const [low, high] = c.interval;
  return ` (${INTERVAL_LEVEL * 100}% interval ${low}–${high}${low <= c.limit && c.limit <= high ? ', the limit inside it: within this run\'s noise' : ''})`;
}

export function printTable(
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
        (t.floor ? `; at the floor ${t.floor.cpuMs.toFixed(1)} ms CPU (ratio ${t.floor.ratioCpu.toFixed(2)})` : '') +
        (t.lowerQuartile ? `; CPU ratio at every figure's lower quartile ${t.lowerQuartile.ratioCpu.toFixed(3)} (informational)` : ''),
    );
  }
  if (floor) {
    lines.push(
      `floor (${FLOOR_PROBE}: the logger, node:tls, node:crypto and the HTTP/1.1 transport loaded, one unsigned request): cold path ${floor.cpuAboveNodeMs.toFixed(1)} ms CPU, ` +
        `${floor.firstCallCpuMs.toFixed(1)} of them the request; ${floor.aboveNodeMs.toFixed(1)} ms wall`,
    );
  }
  lines.push(
    'cold path = a fresh process on the Lambda runtime\'s Node.js, with what that runtime loads before a handler already loaded (bench/lib/lambda-runtime.cjs), ' +
      'loads the bundle, then runs its first invocation against the local stub; ' +
      'cpu ms and wall ms are above bare node, started the same way; 1st = the first invocation alone; RSS = peak resident set at the end of it, runtime included',
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
  for (const c of checks) lines.push(`${c.skipped ? 'SKIP' : c.pass ? 'PASS' : 'FAIL'} ${c.description}: ${c.actual ?? 'not measured'}${c.skipped ? ` (${c.skipped})` : ''}${interval(c)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The cold paths over TLS (bench/lib/tls.ts): informational, beside the plain-HTTP figures the budgets read. */
export function printTls(tls: TlsResult | { error: string }): void {
  if ('error' in tls) {
    process.stdout.write(`cold path over TLS: not measured: ${tls.error}\n\n`);
    return;
  }
  const lines = [
    `${pad('cold path over TLS', 30, false)} ${pad('cpu ms', 7)} ${pad('naive', 7)} ${pad('ratio', 6)} ${pad('+tls', 6)} ${pad('naive', 6)} ${pad('1st cpu', 8)} ${pad('conns', 6)} ${pad('naive', 6)}`,
  ];
  for (const [name, f] of Object.entries(tls.functions)) {
    if (!f) continue;
    lines.push(
      `${pad(name, 30, false)} ${pad(f.ours.cpuAboveNodeMs.toFixed(1), 7)} ${pad(f.naive.cpuAboveNodeMs.toFixed(1), 7)} ${pad(f.ratioCpu.toFixed(2), 6)} ` +
        `${pad(f.addedCpuMs.ours.toFixed(1), 6)} ${pad(f.addedCpuMs.naive.toFixed(1), 6)} ${pad(f.ours.firstCallCpuMs.toFixed(1), 8)} ${pad(tls.connections[`${name}/ours`], 6)} ${pad(tls.connections[`${name}/naive`], 6)}`,
    );
  }
  for (const [name, t] of Object.entries(tls.paths)) {
    lines.push(
      `${name} path over TLS: cold total ${t.ours.cpuMs.toFixed(1)} ms CPU vs ${t.naive.cpuMs.toFixed(1)} naive (ratio ${t.ratioCpu.toFixed(2)})` +
        (t.floor ? `; at the floor ${t.floor.cpuMs.toFixed(1)} ms CPU (ratio ${t.floor.ratioCpu.toFixed(2)})` : ''),
    );
  }
  if (tls.floor) lines.push(`floor over TLS: cold path ${tls.floor.cpuAboveNodeMs.toFixed(1)} ms CPU, ${tls.floor.firstCallCpuMs.toFixed(1)} of them the request`);
  lines.push(
    `over TLS = the same cold paths against the stub served over HTTPS (a verified RSA 2048 chain, ${tls.rounds} rounds of their own); cpu ms above bare node with the same environment; ` +
      '+tls = CPU ms above the same build\'s plain-HTTP cold path; conns = TLS connections each build opened; informational, no budget',
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function printExperiments(e: ExperimentsResult): void {
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
