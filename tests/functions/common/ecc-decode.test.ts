/**
 * functions/common/ecc-decode.ts replaces `@aws-crypto/material-management`'s point decompression in
 * the bundles (scripts/build.ts, platformPointDecompression). These tests prove the replacement
 * returns exactly what the library's own module returns, and that the shipped bundles carry it.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createECDH } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { decodeNamedCurves, type PointDecoder } from '../../../functions/common/ecc-decode.ts';
import { SIGNING_CURVES } from '../../../functions/common/ecc-curves.ts';
import { ECC_DECODE_MODULE, entryPoints, productionOptions } from '../../../scripts/build.ts';

const require = createRequire(import.meta.url);
/** The library's own module, loaded as published (the tests run unbundled, so nothing is swapped here). */
const library = require('@aws-crypto/material-management/build/main/src/ecc_decode.js') as { decodeNamedCurves: Record<string, PointDecoder> };

const CURVES = SIGNING_CURVES.map((c) => [c.openssl, c.web] as const);

describe('public-key point decompression through OpenSSL (functions/common/ecc-decode.ts)', () => {
  for (const [curve, webName] of CURVES) {
    it(`gives the library's exact uncompressed point for random ${curve} keys, under both curve names`, () => {
      fc.assert(
        fc.property(fc.integer(), () => {
          const ecdh = createECDH(curve);
          ecdh.generateKeys();
          const compressed = new Uint8Array(ecdh.getPublicKey(undefined, 'compressed'));
          const expected = library.decodeNamedCurves[curve]!(compressed);
          expect(Buffer.from(decodeNamedCurves[curve](compressed))).to.deep.equal(Buffer.from(expected));
          expect(Buffer.from(decodeNamedCurves[webName](compressed))).to.deep.equal(Buffer.from(expected));
          expect(Buffer.from(expected)).to.deep.equal(ecdh.getPublicKey(undefined, 'uncompressed'));
        }),
        { numRuns: 60 },
      );
    });
  }

  it('exports the same frozen shape as the library module', () => {
    expect(Object.keys(decodeNamedCurves).sort()).to.deep.equal(Object.keys(library.decodeNamedCurves).sort());
    expect(Object.isFrozen(decodeNamedCurves)).to.equal(true);
  });

  it('refuses a point of the wrong length, as the library does', () => {
    const short = new Uint8Array(48);
    short[0] = 2;
    expect(() => library.decodeNamedCurves['secp384r1']!(short)).to.throw('Compressed point length is not correct.');
    expect(() => decodeNamedCurves.secp384r1(short)).to.throw('Compressed point length is not correct.');
  });

  it('refuses an x coordinate that is not on the curve, where the library returns a point the signature check must then reject', () => {
    // x = 1 on P-384: 1 - 3 + b has no square root modulo p, so no point has this x.
    const offCurve = new Uint8Array(49);
    offCurve[0] = 2;
    offCurve[48] = 1;
    expect(() => decodeNamedCurves.secp384r1(offCurve)).to.throw();
    expect(library.decodeNamedCurves['secp384r1']!(offCurve)).to.have.length(97);
  });

  it('is what the sender bundles carry: the library module is swapped and its Montgomery set-up is gone', async function () {
    this.timeout(60_000);
    const out = path.join(os.tmpdir(), `ecc-decode-${process.pid}`);
    const result = await build({ ...productionOptions(entryPoints(['custom-email-sender']), out), write: false, logLevel: 'silent' });
    const inputs = Object.entries(Object.values(result.metafile!.outputs).find((o) => o.entryPoint)!.inputs);
    expect(inputs.some(([i]) => i.endsWith('functions/common/ecc-decode.ts'))).to.equal(true);
    // The library's module is still resolved, but what it contributes is only the re-export of ours
    // (inside a lazy-init wrapper of a few bytes, since platformKeyEncoding defers some of the library to a require).
    const swapped = inputs.filter(([i]) => ECC_DECODE_MODULE.test(`/${i}`));
    expect(swapped).to.have.length(1);
    expect(swapped[0]![1].bytesInOutput).to.be.below(40);
    const bundle = result.outputFiles.find((f) => f.path.endsWith('index.js'))!.text;
    expect(bundle).to.include('convertKey');
    // The library module's eager `BN.mont(p)` calls, one per curve, start from these hex primes.
    expect(bundle).not.to.include('FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF');
  });

  it('fails the build rather than ship the slow module when the library no longer has it where expected', async function () {
    this.timeout(60_000);
    // Stand-in for a library release that moves the module: its import resolves somewhere the swap does not look.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ecc-decode-moved-'));
    const moved = path.join(dir, 'ecc_decode_moved.js');
    await writeFile(moved, "export const decodeNamedCurves = Object.freeze({});\n");
    const relocate: Plugin = { name: 'relocate', setup: (b) => b.onResolve({ filter: /^\.\/ecc_decode$/ }, () => ({ path: moved })) };
    const options = productionOptions(entryPoints(['custom-email-sender']), dir);
    try {
      const failure = await build({ ...options, write: false, logLevel: 'silent', plugins: [relocate, ...(options.plugins ?? [])] }).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(failure?.message).to.include('its ecc_decode module was not found');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
