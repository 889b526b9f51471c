/**
 * What a bench run records (bench/results.json): the budgets file's shape, each function's sizes,
 * load and cold-path figures, the budget checks, and the user paths' cold totals, with the medians
 * that turn raw samples into figures.
 */
import type { FunctionKind, FunctionName } from '../../functions/catalog.ts';
import type { CalibrationReference } from './calibration.ts';
import type { ColdPathSample, ProcessSample } from './cold.ts';
import { COLD_PATHS, type ColdPathName } from './paths.ts';
import { median, quantile, round } from './stats.ts';
import type { WarmResult } from './warm.ts';

export interface Budgets {
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

export interface Sizes {
  indexBytes: number;
  mapBytes: number;
  zipBytes: number;
}

export interface LoadFigures {
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

export interface FunctionResult {
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

export interface BudgetCheck {
  id: string;
  description: string;
  limit: number;
  actual: number | null;
  pass: boolean;
  /** Why the check was not judged (it then counts as passing). */
  skipped?: string;
  /**
   * For a judged ratio: its bootstrap interval over the run's samples (`INTERVAL_LEVEL`, 90%, of
   * bench/lib/stats.ts). The verdict still reads `actual`; a limit inside the interval means this run
   * cannot settle the check.
   */
  interval?: [number, number];
  /** For the calibrated load caps: the figure as measured on this machine, before the machine factor. */
  measured?: number | null;
}

export function loadFigures(samples: ProcessSample[], baseline: { wall: number; cpu: number }): LoadFigures {
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

export function coldPathFigures(samples: ColdPathSample[], baseline: { wall: number; cpu: number }): ColdPathFigures {
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

/** A user path's cold total: the sum of its triggers' cold paths, ours and naive, CPU and wall. */
export interface PathTotal {
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
  /**
   * Informational, never a budget: the CPU ratio with every figure (each trigger's cold paths and the
   * bare node) read at its lower quartile instead of its median. This machine has a slow phase that
   * takes a third to a half of all processes, bare node's included, some 40% slower; a median of 21
   * then lands on either side of the gap, and the lower quartile stays in the fast phase
   * (docs/performance.md, "How it is measured, and why").
   */
  readonly lowerQuartile?: { ratioCpu: number };
}

/** `bareCpuMs`, the bare-node processes' CPU times, adds {@link PathTotal.lowerQuartile}. */
export function pathTotals(results: FunctionResult[], floor: ColdPathFigures | undefined, bareCpuMs?: readonly number[]): Partial<Record<ColdPathName, PathTotal>> {
  const totals: Partial<Record<ColdPathName, PathTotal>> = {};
  const bareQuartile = bareCpuMs && bareCpuMs.length > 0 ? quantile(bareCpuMs, 0.25) : undefined;
  for (const [name, members] of Object.entries(COLD_PATHS) as Array<[ColdPathName, readonly FunctionName[]]>) {
    const measured = members.map((m) => results.find((r) => r.name === m));
    if (measured.some((r) => !r?.ours.coldPath || !r.naive.coldPath)) continue;
    const sum = (variant: 'ours' | 'naive', field: 'cpuAboveNodeMs' | 'aboveNodeMs') => round(measured.reduce((t, r) => t + r![variant].coldPath![field], 0), 1);
    const ours = { cpuMs: sum('ours', 'cpuAboveNodeMs'), wallMs: sum('ours', 'aboveNodeMs') };
    const naive = { cpuMs: sum('naive', 'cpuAboveNodeMs'), wallMs: sum('naive', 'aboveNodeMs') };
    const atFloor = (field: 'cpuAboveNodeMs' | 'aboveNodeMs') => round(measured.reduce((t, r) => t + Math.min(r!.ours.coldPath![field], floor![field]), 0), 1);
    const floorTotal = floor ? { cpuMs: atFloor('cpuAboveNodeMs'), wallMs: atFloor('aboveNodeMs') } : undefined;
    const quartileSum = (variant: 'ours' | 'naive') => measured.reduce((t, r) => t + quantile(r![variant].coldPath!.rawCpuMs, 0.25) - bareQuartile!, 0);
    totals[name] = {
      functions: members,
      ours,
      naive,
      ratio: round(ours.wallMs / naive.wallMs, 3),
      ratioCpu: round(ours.cpuMs / naive.cpuMs, 3),
      ...(floorTotal ? { floor: { ...floorTotal, ratio: round(floorTotal.wallMs / naive.wallMs, 3), ratioCpu: round(floorTotal.cpuMs / naive.cpuMs, 3) } } : {}),
      ...(bareQuartile === undefined ? {} : { lowerQuartile: { ratioCpu: round(quartileSum('ours') / quartileSum('naive'), 3) } }),
    };
  }
  return totals;
}
