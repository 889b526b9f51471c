/**
 * Bundles every function in functions/catalog.ts with esbuild and zips each one reproducibly.
 *
 * Output: dist/<name>/index.js (+ .map) and dist/<name>.zip. Zip entries are sorted and stamped
 * with a fixed time and mode, so identical sources give byte-identical zips and `terraform plan`
 * shows no change where none happened. The zip holds index.js only: the source map stays in dist/
 * for the sandbox and for decoding a production stack trace (docs/performance.md says why).
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ZipFile } from 'yazl';
import { FUNCTIONS } from '../functions/catalog.ts';
import { LAMBDA_ESBUILD_TARGET } from '../functions/runtime.ts';

const root = path.resolve(import.meta.dirname, '..');
/** 1980-01-01T00:00:00Z is the earliest time a zip can hold; any fixed time works. */
const FIXED_MTIME = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));

/**
 * Lambda gives every function its role's credentials in environment variables, so the SDK's default
 * credential chain (SSO, shared INI files, credential_process, web identity, container and instance
 * metadata, with the STS/SSO clients they need) is dead code there: about 130 KiB of minified
 * JavaScript parsed at every cold start, 12 ms of CPU per bundle on the benchmark machine. This
 * plugin resolves the chain's package to the SDK's own environment provider instead. Without the
 * variables a call fails with the SDK's "Unable to find environment variable credentials".
 */
export function environmentCredentialsOnly(): Plugin {
  return {
    name: 'environment-credentials-only',
    setup(b) {
      b.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({ path: 'environment-credentials', namespace: 'environment-credentials-only' }));
      b.onLoad({ filter: /.*/, namespace: 'environment-credentials-only' }, () => ({
        contents: "import { fromEnv } from '@aws-sdk/credential-provider-env';\nexport const defaultProvider = (init = {}) => fromEnv(init);\n",
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}

/** The Encryption SDK module whose point decompression {@link platformPointDecompression} replaces. */
export const ECC_DECODE_MODULE = /[\\/]@aws-crypto[\\/]material-management[\\/]build[\\/](module|main)[\\/]src[\\/]ecc_decode\.js$/;
const ECC_DECODE_REPLACEMENT = path.join(root, 'functions', 'common', 'ecc-decode.ts');

/**
 * `@aws-crypto/material-management` builds Montgomery contexts for P-256 and P-384 with bn.js when it
 * loads, about 7 ms of every sender's cold start, only to decompress one public key per message later.
 * This plugin swaps that module for functions/common/ecc-decode.ts, which exports the same object and
 * lets OpenSSL do the work when a message is decrypted. tests/functions/common/ecc-decode.test.ts proves the
 * two give the same points. The build fails if the library moves the module and the swap stops
 * applying, instead of silently shipping the slower code.
 */
export function platformPointDecompression(): Plugin {
  return {
    name: 'platform-point-decompression',
    setup(b) {
      const swapped = new Set<string>();
      let libraryBundled = false;
      b.onLoad({ filter: ECC_DECODE_MODULE }, (args) => {
        swapped.add(args.path);
        return { contents: `export { decodeNamedCurves } from ${JSON.stringify(ECC_DECODE_REPLACEMENT)};\n`, loader: 'js', resolveDir: root };
      });
      b.onLoad({ filter: /[\\/]@aws-crypto[\\/]material-management[\\/]build[\\/].*[\\/]signature_key\.js$/ }, () => {
        libraryBundled = true;
        return undefined;
      });
      // An error added to the result here would only be reported; throwing fails the build.
      b.onEnd((result) => {
        if (libraryBundled && swapped.size === 0 && result.errors.length === 0) {
          throw new Error('@aws-crypto/material-management is bundled but its ecc_decode module was not found: check ECC_DECODE_MODULE against the installed version');
        }
      });
    },
  };
}

/** The Encryption SDK modules whose ASN.1 code {@link platformKeyEncoding} keeps off the decrypt path. */
export const PEM_HELPERS_MODULE = /[\\/]@aws-crypto[\\/]material-management[\\/]build[\\/](module|main)[\\/]src[\\/]pem_helpers\.js$/;
export const ECDSA_SIGNATURE_MODULE = /[\\/]@aws-crypto[\\/]serialize[\\/]build[\\/](module|main)[\\/]src[\\/]ecdsa_signature\.js$/;
const PEM_REPLACEMENT = path.join(root, 'functions', 'common', 'ecc-pem.ts');
/** The suffix under which the swapped modules load as published, for the exports that stay the library's. */
const AS_PUBLISHED = '?as-published';

/**
 * The Encryption SDK loads `asn1.js`, with its own copy of `bn.js`, into every sender's cold start:
 * `pem_helpers` (material-management) defines the key schemas it writes PEMs with, and
 * `ecdsa_signature` (serialize) defines the signature schema WebCrypto needs, each when it loads. A
 * decrypting function on Node uses one export of the two: `publicKeyPem`, once per message. This
 * plugin takes it from functions/common/ecc-pem.ts, which has OpenSSL write the same PEM, and turns
 * the other exports (signing keys, WebCrypto signatures) into calls that load the published module on
 * first use, so they behave as before if anything ever calls them. tests/functions/common/ecc-pem.test.ts
 * proves the PEMs equal; the build fails if either module moves and the swap stops applying.
 */
export function platformKeyEncoding(): Plugin {
  const deferred = (modulePath: string, names: readonly string[]) =>
    names.map((name) => `export function ${name}(...args) { return require(${JSON.stringify(modulePath + AS_PUBLISHED)}).${name}(...args); }`);
  return {
    name: 'platform-key-encoding',
    setup(b) {
      const swapped = new Set<'pem_helpers' | 'ecdsa_signature'>();
      const bundled = new Set<'pem_helpers' | 'ecdsa_signature'>();
      b.onLoad({ filter: PEM_HELPERS_MODULE }, (args) => {
        if (args.suffix === AS_PUBLISHED) return undefined;
        swapped.add('pem_helpers');
        const contents = [`export { publicKeyPem } from ${JSON.stringify(PEM_REPLACEMENT)};`, ...deferred(args.path, ['privateKeyPem', 'chunk64'])];
        return { contents: `${contents.join('\n')}\n`, loader: 'js', resolveDir: root };
      });
      b.onLoad({ filter: ECDSA_SIGNATURE_MODULE }, (args) => {
        if (args.suffix === AS_PUBLISHED) return undefined;
        swapped.add('ecdsa_signature');
        return { contents: `${deferred(args.path, ['der2raw', 'raw2der']).join('\n')}\n`, loader: 'js', resolveDir: root };
      });
      // The modules that import the two: seeing one loaded means the library is in the bundle.
      b.onLoad({ filter: /[\\/]@aws-crypto[\\/]material-management[\\/]build[\\/].*[\\/]signature_key\.js$/ }, () => {
        bundled.add('pem_helpers');
        return undefined;
      });
      b.onLoad({ filter: /[\\/]@aws-crypto[\\/]serialize[\\/]build[\\/](module|main)[\\/]src[\\/]index\.js$/ }, () => {
        bundled.add('ecdsa_signature');
        return undefined;
      });
      b.onEnd((result) => {
        const missed = [...bundled].filter((m) => !swapped.has(m));
        if (missed.length > 0 && result.errors.length === 0) {
          throw new Error(`the Encryption SDK is bundled but its ${missed.join(' and ')} module was not found: check PEM_HELPERS_MODULE and ECDSA_SIGNATURE_MODULE against the installed version`);
        }
      });
    },
  };
}

/**
 * The functions whose AWS clients are functions/common/aws-clients.ts rather than the SDK's: the
 * synchronous triggers, which a user waits for (docs/performance.md, "The cold path").
 */
export const SDK_FREE_FUNCTIONS: ReadonlySet<string> = new Set(
  FUNCTIONS.filter((f) => f.kind === 'sync-trigger').map((f) => f.name),
);

const SDK_COMMAND_MODULES: Readonly<Record<string, string>> = Object.fromEntries(
  ['lib-dynamodb', 'client-sfn', 'client-cognito-identity-provider', 'client-sesv2'].map((pkg) => [`@aws-sdk/${pkg}`, path.join(root, 'functions', 'common', 'sdk-commands', `${pkg}.ts`)]),
);

/**
 * For the bundles of {@link SDK_FREE_FUNCTIONS}: their logic imports the SDK's command classes (its
 * tests send them through the SDK's mocks), but each class would load its whole service client, about
 * 33 ms of CPU, for a client the bundle never builds. This plugin resolves our code's imports of those
 * packages to functions/common/sdk-commands/, classes of the same names that carry the input and the
 * operation, which is all the clients of functions/common/aws-clients.ts read. An import of any other
 * SDK client package, or of an export the swap does not provide, fails the build.
 */
export function sdkCommandClasses(): Plugin {
  return {
    name: 'sdk-command-classes',
    setup(b) {
      b.onResolve({ filter: /^@aws-sdk\/(client|lib)-/ }, (args) => {
        if (args.importer.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const swap = SDK_COMMAND_MODULES[args.path];
        if (swap) return { path: swap };
        return { errors: [{ text: `${path.relative(root, args.importer)} imports ${args.path}, but a synchronous trigger's bundle builds no SDK client: its clients are functions/common/aws-clients.ts` }] };
      });
    },
  };
}

/**
 * The esbuild options that ship, for entries that are all synchronous triggers or all not (their
 * bundles differ by {@link sdkCommandClasses}). The benchmark compares these with esbuild's defaults.
 */
export function productionOptions(entryPoints: Record<string, string>, outdir: string): BuildOptions {
  const names = Object.keys(entryPoints).map((entry) => entry.split('/')[0]!);
  const sdkFree = names.filter((name) => SDK_FREE_FUNCTIONS.has(name));
  if (sdkFree.length > 0 && sdkFree.length < names.length) throw new Error(`build synchronous triggers apart from the other functions: ${sdkFree.join(', ')}`);
  return {
    entryPoints,
    outdir,
    entryNames: '[dir]/index',
    bundle: true,
    platform: 'node',
    target: LAMBDA_ESBUILD_TARGET,
    format: 'cjs',
    // The AWS SDK's ES-module builds load markedly faster than its CommonJS ones.
    mainFields: ['module', 'main'],
    minify: true,
    treeShaking: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    plugins: [environmentCredentialsOnly(), platformPointDecompression(), platformKeyEncoding(), ...(sdkFree.length > 0 ? [sdkCommandClasses()] : [])],
  };
}

/** Entry points keyed by `<name>/index`, so each bundle lands in dist/<name>/. */
export function entryPoints(names: readonly string[] = FUNCTIONS.map((f) => f.name)): Record<string, string> {
  return Object.fromEntries(names.map((name) => [`${name}/index`, path.join(root, 'functions', name, 'index.ts')]));
}

/** Zips a directory with sorted entries, fixed timestamps and fixed permissions; `include` filters entries. */
export async function zipDirectory(dir: string, zipPath: string, include: (file: string) => boolean = () => true): Promise<void> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter(include)
    .sort();
  const zip = new ZipFile();
  for (const file of files) {
    zip.addBuffer(await readFile(path.join(dir, file)), file, { mtime: FIXED_MTIME, mode: 0o100644, compress: true });
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(zipPath);
    zip.outputStream.pipe(out).on('close', resolve).on('error', reject);
    zip.outputStream.on('error', reject);
  });
}

/** Builds all functions, the synchronous triggers in one esbuild call and the rest in another, and zips each. Returns the zip paths by name. */
export async function buildAll(outRoot = path.join(root, 'dist')): Promise<Record<string, string>> {
  await rm(outRoot, { recursive: true, force: true });
  await mkdir(outRoot, { recursive: true });
  const names = FUNCTIONS.map((f) => f.name);
  const groups = [names.filter((n) => SDK_FREE_FUNCTIONS.has(n)), names.filter((n) => !SDK_FREE_FUNCTIONS.has(n))];
  await Promise.all(groups.filter((g) => g.length > 0).map((group) => build(productionOptions(entryPoints(group), outRoot))));
  const zips: Record<string, string> = {};
  await Promise.all(
    names.map(async (name) => {
      zips[name] = path.join(outRoot, `${name}.zip`);
      // Lambda runs without --enable-source-maps, so a map in the zip would only double its size.
      await zipDirectory(path.join(outRoot, name), zips[name], (file) => !file.endsWith('.map'));
    }),
  );
  return zips;
}

if (import.meta.filename === process.argv[1]) {
  const started = performance.now();
  const zips = await buildAll(process.env.BUILD_OUT_DIR ? path.resolve(process.env.BUILD_OUT_DIR) : undefined);
  console.log(`built ${Object.keys(zips).length} functions in ${Math.round(performance.now() - started)} ms`);
}
