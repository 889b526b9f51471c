/**
 * Builds the floor probe (bench/floor/one-request.ts) exactly as the functions ship, so its cold path,
 * measured in the same rounds as theirs, is the least a trigger that logs and makes one AWS call can
 * cost on this machine right now. A function's figure minus the probe's is what its client and its
 * logic add; a user path's floor is what its triggers would cost if each were at its floor.
 */
import { build } from 'esbuild';
import path from 'node:path';
import { productionOptions } from '../../scripts/build.ts';
import { repoRoot } from './builds.ts';

/** The probe's name in results.json and in the log. */
export const FLOOR_PROBE = 'floor-one-request';

/** Builds the probe under `outRoot`; returns its index.js. */
export async function buildFloor(outRoot: string): Promise<string> {
  const entry = path.join(repoRoot, 'bench', 'floor', 'one-request.ts');
  await build({ ...productionOptions({ [`${FLOOR_PROBE}/index`]: entry }, outRoot), logLevel: 'silent' });
  return path.join(outRoot, FLOOR_PROBE, 'index.js');
}
