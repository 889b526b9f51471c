import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { build } from 'esbuild';
import { FUNCTIONS } from '../../functions/catalog.ts';
import { SDK_FREE_FUNCTIONS, buildAll, sdkCommandClasses } from '../../scripts/build.ts';

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
    // The synchronous triggers carry no SDK client, the others do: the SDK stamps its user agent into every client.
    for (const { name } of FUNCTIONS) {
      const bundle = readFileSync(path.join(dirs[0]!, name, 'index.js'), 'utf8');
      expect(bundle.includes('aws-sdk-js'), name).to.equal(!SDK_FREE_FUNCTIONS.has(name));
    }
  });

  it('fails a synchronous trigger\'s build that imports an SDK client package the slim clients do not replace', async () => {
    const error = await build({
      stdin: { contents: "import { KMSClient } from '@aws-sdk/client-kms'; export const k = KMSClient;", resolveDir: path.resolve('functions'), sourcefile: 'functions/x/index.ts' },
      bundle: true,
      platform: 'node',
      write: false,
      logLevel: 'silent',
      plugins: [sdkCommandClasses()],
    }).catch((e: unknown) => e);
    expect(error).to.have.property('message').that.includes('imports @aws-sdk/client-kms, but a synchronous trigger\'s bundle builds no SDK client');
  });
});
