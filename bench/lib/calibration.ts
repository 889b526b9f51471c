/**
 * How fast this run's machine is, compared with the machine the absolute load caps were set on.
 *
 * The caps in bench/budgets.json ("every synchronous trigger under 60 ms of load on this machine",
 * senders under 100 ms) are absolute milliseconds on one machine, and the same 2-core machine runs
 * 1.3–1.5× slower from one hour to the next. The budgets also state what one fixed workload costs
 * there: a DynamoDB client (bench/calibration/dynamodb-client.ts) loads in 45–50 ms built
 * tree-shaken and 85–100 ms built with esbuild's defaults. Every run builds that workload both ways
 * and loads it in the same interleaved rounds as the functions; measured / stated is the machine
 * factor, and a function's load divided by it is what it would cost on the reference machine.
 *
 * The workload is independent of our code, so the factor moves only with the machine and the
 * installed SDK. What it cannot catch is a slower SDK release: that moves the workload and the
 * functions alike. The raw figures are reported next to the calibrated ones for that reason.
 */
import { build, type BuildOptions } from 'esbuild';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { productionOptions } from '../../scripts/build.ts';
import { repoRoot } from './builds.ts';
import { round } from './stats.ts';

/** The two builds of the calibration workload, named as bench/budgets.json names their references. */
export type CalibrationBuild = 'tree-shaken' | 'esbuild-defaults';

export const CALIBRATION_BUILDS: readonly CalibrationBuild[] = ['tree-shaken', 'esbuild-defaults'];

/** What bench/budgets.json says about the reference machine: each build's load time there, a range in ms. */
export type CalibrationReference = Record<CalibrationBuild, readonly [number, number]>;

const ENTRY = path.join(repoRoot, 'bench', 'calibration', 'dynamodb-client.ts');

function options(variant: CalibrationBuild, outdir: string): BuildOptions {
  const common = { entryPoints: { [`calibration-${variant}/index`]: ENTRY }, outdir, entryNames: '[dir]/index', logLevel: 'silent' as const };
  if (variant === 'esbuild-defaults') return { ...common, bundle: true, platform: 'node' };
  // Our production options without our own additions (environment-only credentials, source maps), so the
  // workload stays what the reference figure describes: the SDK as published, tree-shaken and minified.
  return { ...productionOptions({}, outdir), ...common, plugins: [], sourcemap: false, metafile: false };
}

/** Builds both variants under `outRoot`; returns each bundle's index.js. */
export async function buildCalibration(outRoot: string): Promise<Record<CalibrationBuild, string>> {
  const bundles = {} as Record<CalibrationBuild, string>;
  for (const variant of CALIBRATION_BUILDS) {
    await rm(path.join(outRoot, `calibration-${variant}`), { recursive: true, force: true });
    await build(options(variant, outRoot));
    bundles[variant] = path.join(outRoot, `calibration-${variant}`, 'index.js');
  }
  return bundles;
}

/** One calibration build's figures in a run. */
export interface CalibrationFigure {
  /** Measured load above bare node, in the budgets' metric. */
  readonly measuredMs: number;
  /** Midpoint of the reference range. */
  readonly referenceMs: number;
  /** measured / reference. */
  readonly factor: number;
}

export interface MachineCalibration {
  readonly builds: Partial<Record<CalibrationBuild, CalibrationFigure>>;
  /**
   * Geometric mean of the builds' factors: above 1, this machine is slower than the reference one
   * right now. 1 when nothing could be measured (then `note` says why).
   */
  readonly factor: number;
  readonly note?: string;
}

/**
 * The machine factor from the measured loads (above bare node) of the calibration builds. A build
 * that failed to load is left out; with none, the factor is 1 and the caps are judged raw.
 */
export function machineFactor(measured: Partial<Record<CalibrationBuild, number>>, reference: CalibrationReference): MachineCalibration {
  const builds: Partial<Record<CalibrationBuild, CalibrationFigure>> = {};
  const factors: number[] = [];
  for (const variant of CALIBRATION_BUILDS) {
    const ms = measured[variant];
    if (ms === undefined || !Number.isFinite(ms) || ms <= 0) continue;
    const [low, high] = reference[variant];
    const referenceMs = (low + high) / 2;
    const factor = ms / referenceMs;
    builds[variant] = { measuredMs: round(ms), referenceMs, factor: round(factor, 3) };
    factors.push(factor);
  }
  if (factors.length === 0) return { builds, factor: 1, note: 'no calibration build was measured; caps judged on raw figures' };
  const geometricMean = Math.exp(factors.reduce((sum, f) => sum + Math.log(f), 0) / factors.length);
  return { builds, factor: round(geometricMean, 3) };
}
