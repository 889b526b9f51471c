/**
 * The figures the reliability suite measures. Each test records what it observed next to what it
 * expected; scripts/reliability-report.ts renders them into docs/reliability.md, so every number in
 * that document comes from a run of the suite.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the suite writes its figures (RELIABILITY_FIGURES overrides, e.g. to keep two runs apart). */
export const FIGURES_FILE = path.resolve(process.env.RELIABILITY_FIGURES ?? path.join(import.meta.dirname, '../../../.build/reliability.json'));

/** One row of the reliability table. */
export interface Figure {
  /** Stable key; a later run replaces the row with the same id. */
  id: string;
  /** Section of the report: lockout, idempotency, faults, timeouts, hostile-input, secrets. */
  area: string;
  scenario: string;
  /** The load or fault applied. */
  load: string;
  expected: string;
  measured: string;
  /** Whether the measurement met the expectation (the test asserts the same thing). */
  ok: boolean;
}

export interface FiguresFile {
  /** The test process that wrote the figures; a new run starts the file afresh, so no stale row survives. */
  run?: { id: string; startedAt: string };
  machine: { node: string; cpus: number; platform: string };
  figures: Array<Figure & { at: string }>;
}

/** One per test process: every suite file of a mocha run shares this module instance. */
const RUN = { id: `${process.pid}-${Date.now()}`, startedAt: new Date().toISOString() };
/** This run's figures; the file always holds exactly these, so no row from an older run survives. */
const current: FiguresFile['figures'] = [];

function load(): FiguresFile {
  try {
    return JSON.parse(readFileSync(FIGURES_FILE, 'utf8')) as FiguresFile;
  } catch {
    return { machine: machine(), figures: [] };
  }
}

function machine(): FiguresFile['machine'] {
  return { node: process.version, cpus: os.cpus().length, platform: `${os.platform()}-${os.arch()}` };
}

/** Records a figure and rewrites the file at once (atomically), so a crash later in the run loses nothing. */
export function record(figure: Figure): void {
  const at = current.findIndex((f) => f.id === figure.id);
  if (at >= 0) current.splice(at, 1);
  current.push({ ...figure, at: new Date().toISOString() });
  const file: FiguresFile = { run: RUN, machine: machine(), figures: current };
  mkdirSync(path.dirname(FIGURES_FILE), { recursive: true });
  const tmp = `${FIGURES_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(tmp, FIGURES_FILE);
}

/** Reads the figures file. */
export function readFigures(): FiguresFile {
  return load();
}

/** `1234.5` -> `1.23 s`, `87.2` -> `87 ms`. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
