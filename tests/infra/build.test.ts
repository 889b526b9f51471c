import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { FUNCTIONS } from '../../functions/catalog.ts';
import { buildAll } from '../../scripts/build.ts';

describe('function bundles', function () {
  // Two full esbuild runs of twelve bundles on a shared machine.
  this.timeout(180_000);
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('are byte-identical across two builds of the same source', async () => {
    const sums: Record<string, string>[] = [];
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(path.join(os.tmpdir(), `ct-build-${i}-`));
      dirs.push(dir);
      const zips = await buildAll(dir);
      sums.push(Object.fromEntries(Object.entries(zips).map(([name, zip]) => [name, createHash('sha256').update(readFileSync(zip)).digest('hex')])));
    }
    expect(Object.keys(sums[0]!).sort()).to.deep.equal(FUNCTIONS.map((f) => f.name).sort());
    expect(sums[1]).to.deep.equal(sums[0]);
  });
});
