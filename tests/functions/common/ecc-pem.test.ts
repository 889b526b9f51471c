/**
 * functions/common/ecc-pem.ts replaces `@aws-crypto/material-management`'s `publicKeyPem` in the
 * bundles, and the rest of that module and of `@aws-crypto/serialize`'s `ecdsa_signature` load on first
 * use (scripts/build.ts, platformKeyEncoding). These tests prove the replacement writes exactly the
 * library's PEM, that the deferred exports still answer as published, and that the shipped bundles
 * carry the swap.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createECDH, createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { publicKeyPem } from '../../../functions/common/ecc-pem.ts';
import { SIGNING_CURVES } from '../../../functions/common/ecc-curves.ts';
import { PEM_HELPERS_MODULE, entryPoints, platformKeyEncoding, productionOptions } from '../../../scripts/build.ts';

const require = createRequire(import.meta.url);
/** The library's own modules, loaded as published (the tests run unbundled, so nothing is swapped here). */
const library = require('@aws-crypto/material-management/build/main/src/pem_helpers.js') as {
  publicKeyPem: (curve: string, publicKey: Buffer) => string;
  privateKeyPem: (curve: string, privateKey: Buffer, publicKey: Buffer) => string;
};
const signature = require('@aws-crypto/serialize/build/main/src/ecdsa_signature.js') as {
  der2raw: (der: Uint8Array, suite: { signatureCurve: string }) => Uint8Array;
};

const CURVES = SIGNING_CURVES.map((c) => [c.openssl, c.web] as const);

describe('verification-key PEMs through OpenSSL (functions/common/ecc-pem.ts)', () => {
  for (const [curve, webName] of CURVES) {
    it(`writes the library's exact PEM for random ${curve} keys, under both curve names, and it verifies the key's signatures`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (message) => {
          const ecdh = createECDH(curve);
          ecdh.generateKeys();
          const point = ecdh.getPublicKey(undefined, 'uncompressed');
          const expected = library.publicKeyPem(curve, point);
          expect(publicKeyPem(curve, new Uint8Array(point))).to.equal(expected);
          expect(publicKeyPem(webName, new Uint8Array(point))).to.equal(expected);
          const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
          const own = publicKey.export({ format: 'jwk' });
          const ownPoint = Buffer.concat([Buffer.from([4]), Buffer.from(own.x!, 'base64url'), Buffer.from(own.y!, 'base64url')]);
          const signed = createSign('sha384').update(message).sign(privateKey);
          expect(createVerify('sha384').update(message).verify(publicKeyPem(curve, ownPoint), signed)).to.equal(true);
        }),
        { numRuns: 40 },
      );
    });
  }

  it('refuses a compressed point, a point of the wrong length and an unknown curve', () => {
    const ecdh = createECDH('secp384r1');
    ecdh.generateKeys();
    expect(() => publicKeyPem('secp384r1', ecdh.getPublicKey(undefined, 'compressed'))).to.throw('Malformed public key.');
    expect(() => publicKeyPem('secp384r1', ecdh.getPublicKey().subarray(0, 96))).to.throw('Malformed public key.');
    expect(() => publicKeyPem('prime256v1', ecdh.getPublicKey())).to.throw('Malformed public key.');
    expect(() => publicKeyPem('secp521r1', ecdh.getPublicKey())).to.throw('Unsupported curve.');
    expect(() => publicKeyPem('toString', ecdh.getPublicKey())).to.throw('Unsupported curve.');
  });

  it('refuses a point that is not on the curve, where the library writes a PEM the signature check must then reject', () => {
    // (1, 1) is on neither curve: 1 = 1 - 3 + b would need b = 3.
    const offCurve = Buffer.alloc(97);
    offCurve[0] = 4;
    offCurve[48] = 1;
    offCurve[96] = 1;
    expect(() => publicKeyPem('secp384r1', offCurve)).to.throw();
    expect(library.publicKeyPem('secp384r1', offCurve)).to.match(/^-----BEGIN PUBLIC KEY-----\n/);
  });

  describe('in the sender bundles (scripts/build.ts, platformKeyEncoding)', function () {
    this.timeout(60_000);

    it('takes publicKeyPem from ours, keeps the published pem_helpers behind a first call, and leaves out the WebCrypto signature schema nothing calls', async () => {
      const out = path.join(os.tmpdir(), `ecc-pem-${process.pid}`);
      const result = await build({ ...productionOptions(entryPoints(['custom-email-sender']), out), write: false, logLevel: 'silent' });
      const inputs = Object.entries(Object.values(result.metafile!.outputs).find((o) => o.entryPoint)!.inputs);
      expect(inputs.some(([i]) => i.endsWith('functions/common/ecc-pem.ts'))).to.equal(true);
      // Each swapped module contributes only its stand-in; pem_helpers as published stays behind a first call.
      const pem = inputs.filter(([i]) => PEM_HELPERS_MODULE.test(`/${i.replace(/\?.*$/, '')}`));
      expect(pem.map(([i]) => i.endsWith('?as-published'))).to.have.members([false, true]);
      const bundle = result.outputFiles.find((f) => f.path.endsWith('index.js'))!.text;
      // What the sender never calls is not in the bundle at all: the WebCrypto signature schema.
      expect(bundle).not.to.include('ECDSASignature');
      expect(bundle).to.include('createPublicKey');
    });

    it('runs no ASN.1 code at load, and keeps the deferred exports answering as the library does on first use', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'ecc-pem-deferred-'));
      try {
        const entry = path.join(dir, 'entry.mjs');
        const pemPath = require.resolve('@aws-crypto/material-management/build/module/src/pem_helpers.js');
        const sigPath = require.resolve('@aws-crypto/serialize/build/module/src/ecdsa_signature.js');
        await writeFile(
          entry,
          [
            `export { privateKeyPem, publicKeyPem } from ${JSON.stringify(pemPath)};`,
            `export { der2raw } from ${JSON.stringify(sigPath)};`,
          ].join('\n'),
        );
        const outfile = path.join(dir, 'out.cjs');
        // Marks the moment asn1.js runs, to show that loading the bundle does not run it.
        const marker = `asn1Loaded${process.pid}`;
        const mark: Plugin = {
          name: 'mark-asn1',
          setup: (b) =>
            b.onLoad({ filter: /[\\/]asn1\.js[\\/]lib[\\/]asn1\.js$/ }, async (args) => ({ contents: `globalThis.${marker} = true;\n${await readFile(args.path, 'utf8')}`, loader: 'js' })),
        };
        await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent', mainFields: ['module', 'main'], plugins: [platformKeyEncoding(), mark] });
        expect(await readFile(outfile, 'utf8')).to.include(marker);
        const bundled = require(outfile) as typeof library & typeof signature;
        const seen = () => (globalThis as Record<string, unknown>)[marker];
        expect(seen(), 'asn1.js ran at load').to.equal(undefined);

        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
        const jwk = privateKey.export({ format: 'jwk' });
        const d = Buffer.from(jwk.d!, 'base64url');
        const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
        expect(bundled.publicKeyPem('secp384r1', point)).to.equal(library.publicKeyPem('secp384r1', point));
        expect(seen(), 'asn1.js ran at load').to.equal(undefined);
        expect(bundled.privateKeyPem('secp384r1', d, point)).to.equal(library.privateKeyPem('secp384r1', d, point));
        expect(seen()).to.equal(true);
        const der = createSign('sha384').update('message').sign(privateKey);
        expect(Buffer.from(bundled.der2raw(der, { signatureCurve: 'P-384' }))).to.deep.equal(Buffer.from(signature.der2raw(der, { signatureCurve: 'P-384' })));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    for (const [module, stub] of [
      ['pem_helpers', 'export const publicKeyPem = () => ""; export const privateKeyPem = () => "";'],
      ['ecdsa_signature', 'export const der2raw = () => new Uint8Array(); export const raw2der = () => new Uint8Array();'],
    ] as const) {
      it(`fails the build rather than ship the ASN.1 code when the library no longer has ${module} where expected`, async () => {
        // Stand-in for a library release that moves the module: its import resolves somewhere the swap does not look.
        const dir = await mkdtemp(path.join(os.tmpdir(), 'ecc-pem-moved-'));
        const moved = path.join(dir, `${module}_moved.js`);
        await writeFile(moved, `${stub}\n`);
        const relocate: Plugin = { name: 'relocate', setup: (b) => b.onResolve({ filter: new RegExp(`^\\./${module}$`) }, () => ({ path: moved })) };
        const options = productionOptions(entryPoints(['custom-email-sender']), dir);
        try {
          const failure = await build({ ...options, write: false, logLevel: 'silent', plugins: [relocate, ...(options.plugins ?? [])] }).then(
            () => undefined,
            (error: unknown) => error as Error,
          );
          expect(failure?.message).to.include(`its ${module} module was not found`);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  });
});
