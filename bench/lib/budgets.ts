/**
 * The run's verdicts: the machine factor from the calibration workload, and one check per budget in
 * bench/budgets.json, each a ratio to the naive build of the same run or a calibrated cap.
 */
import { CALIBRATION_BUILDS, machineFactor, type CalibrationBuild, type MachineCalibration } from './calibration.ts';
import { COLD_PATHS, type ColdPathName } from './paths.ts';
import type { BudgetCheck, Budgets, ColdPathFigures, FunctionResult, LoadFigures, PathTotal } from './results.ts';
import { ratioInterval, round, type RatioTerm } from './stats.ts';

/** The run's machine factor, read in the budgets' load metric. */
export function calibrate(budgets: Budgets, loads: Partial<Record<CalibrationBuild, LoadFigures>>, errors: readonly string[]): MachineCalibration & { loads: typeof loads; errors: readonly string[] } {
  const measured: Partial<Record<CalibrationBuild, number>> = {};
  for (const variant of CALIBRATION_BUILDS) {
    const load = loads[variant];
    if (load) measured[variant] = budgets.loadMetric === 'cpu' ? load.cpuAboveNodeMs : load.aboveNodeMs;
  }
  return { ...machineFactor(measured, budgets.machineCalibration), loads, errors };
}

export function evaluateBudgets(
  budgets: Budgets,
  results: FunctionResult[],
  paths: Partial<Record<ColdPathName, PathTotal>>,
  build: { wallMedianMs: number },
  synth: { wallMedianMs: number } | { error: string },
  machine: MachineCalibration,
  baseline: { medianMs: number; cpuMedianMs: number },
): BudgetCheck[] {
  const checks: BudgetCheck[] = [];
  const check = (id: string, description: string, limit: number, actual: number | undefined | null) =>
    checks.push({ id, description, limit, actual: actual ?? null, pass: actual !== undefined && actual !== null && Number.isFinite(actual) && actual <= limit });
  const cpu = budgets.loadMetric === 'cpu';
  const metric = cpu ? 'CPU' : 'wall';
  const base = cpu ? baseline.cpuMedianMs : baseline.medianMs;
  const raw = (figures: LoadFigures | ColdPathFigures | undefined) => (figures ? (cpu ? figures.rawCpuMs : figures.rawMs) : []);
  /** Gives the last ratio check the bootstrap interval of its ratio, read from the same samples as its figure. */
  const withInterval = (terms: RatioTerm[]) => {
    const last = checks[checks.length - 1]!;
    if (last.skipped || last.actual === null) return;
    const [low, high] = ratioInterval(terms, base);
    if (Number.isFinite(low) && Number.isFinite(high)) last.interval = [round(low, 3), round(high, 3)];
  };
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
    withInterval([{ ours: raw(r.ours.load), naive: raw(r.naive.load) }]);
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
      withInterval([{ ours: raw(r.ours.coldPath), naive: raw(r.naive.coldPath) }]);
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
    const members = COLD_PATHS[name].map((m) => results.find((r) => r.name === m));
    if (total) withInterval(members.map((r) => ({ ours: raw(r?.ours.coldPath), naive: raw(r?.naive.coldPath) })));
  }
  check('build', `all bundles built in under ${budgets.buildMs} ms (median wall time of the build command)`, budgets.buildMs, build.wallMedianMs);
  check('synth', `synth in under ${budgets.synthMs} ms (median wall time of node --import tsx main.ts)`, budgets.synthMs, 'error' in synth ? null : synth.wallMedianMs);
  return checks;
}
