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

/** The suffix under which a swapped module loads as published, for the exports that stay the library's. */
const AS_PUBLISHED = '?as-published';

/** One library module a build plugin replaces with a stand-in. */
interface ModuleSwap {
  /** The module's file name, for the build error. */
  readonly name: string;
  /** Matches the module's path; exported from here under `constant`, which the build error names. */
  readonly module: RegExp;
  readonly constant: string;
  /** Matches a module that imports it: seeing that one loaded means the library is in the bundle. */
  readonly importer: RegExp;
  /** The stand-in's source, given the replaced module's path. */
  readonly contents: (modulePath: string) => string;
}

/**
 * A plugin that loads each swap's stand-in in place of its module, unless the module is asked for
 * under {@link AS_PUBLISHED}. The build fails when a library release moves a module (its importer is
 * bundled but the module never loads), instead of silently shipping the code the swap keeps out.
 */
function moduleSwaps(pluginName: string, library: string, swaps: readonly ModuleSwap[]): Plugin {
  return {
    name: pluginName,
    setup(b) {
      const swapped = new Set<string>();
      const bundled = new Set<string>();
      for (const swap of swaps) {
        b.onLoad({ filter: swap.module }, (args) => {
          if (args.suffix === AS_PUBLISHED) return undefined;
          swapped.add(swap.name);
          return { contents: swap.contents(args.path), loader: 'js', resolveDir: root };
        });
        b.onLoad({ filter: swap.importer }, () => {
          bundled.add(swap.name);
          return undefined;
        });
      }
      // An error added to the result here would only be reported; throwing fails the build.
      b.onEnd((result) => {
        const missed = swaps.filter((swap) => bundled.has(swap.name) && !swapped.has(swap.name));
        if (missed.length > 0 && result.errors.length === 0) {
          throw new Error(
            `${library} is bundled but its ${missed.map((m) => m.name).join(' and ')} module was not found: ` +
              `check ${missed.map((m) => m.constant).join(' and ')} against the installed version`,
          );
        }
      });
    },
  };
}

/** Exports `names` from the published module at `modulePath`, each loading it on its first call. */
function deferredExports(modulePath: string, names: readonly string[]): string[] {
  return names.map((name) => `export function ${name}(...args) { return require(${JSON.stringify(modulePath + AS_PUBLISHED)}).${name}(...args); }`);
}

const SIGNATURE_KEY_MODULE = /[\\/]@aws-crypto[\\/]material-management[\\/]build[\\/].*[\\/]signature_key\.js$/;

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
  return moduleSwaps('platform-point-decompression', '@aws-crypto/material-management', [
    {
      name: 'ecc_decode',
      module: ECC_DECODE_MODULE,
      constant: 'ECC_DECODE_MODULE',
      importer: SIGNATURE_KEY_MODULE,
      contents: () => `export { decodeNamedCurves } from ${JSON.stringify(ECC_DECODE_REPLACEMENT)};\n`,
    },
  ]);
}

/** The Encryption SDK modules whose ASN.1 code {@link platformKeyEncoding} keeps off the decrypt path. */
export const PEM_HELPERS_MODULE = /[\\/]@aws-crypto[\\/]material-management[\\/]build[\\/](module|main)[\\/]src[\\/]pem_helpers\.js$/;
export const ECDSA_SIGNATURE_MODULE = /[\\/]@aws-crypto[\\/]serialize[\\/]build[\\/](module|main)[\\/]src[\\/]ecdsa_signature\.js$/;
const PEM_REPLACEMENT = path.join(root, 'functions', 'common', 'ecc-pem.ts');

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
  return moduleSwaps('platform-key-encoding', 'the Encryption SDK', [
    {
      name: 'pem_helpers',
      module: PEM_HELPERS_MODULE,
      constant: 'PEM_HELPERS_MODULE',
      importer: SIGNATURE_KEY_MODULE,
      contents: (modulePath) => `${[`export { publicKeyPem } from ${JSON.stringify(PEM_REPLACEMENT)};`, ...deferredExports(modulePath, ['privateKeyPem', 'chunk64'])].join('\n')}\n`,
    },
    {
      name: 'ecdsa_signature',
      module: ECDSA_SIGNATURE_MODULE,
      constant: 'ECDSA_SIGNATURE_MODULE',
      importer: /[\\/]@aws-crypto[\\/]serialize[\\/]build[\\/](module|main)[\\/]src[\\/]index\.js$/,
      contents: (modulePath) => `${deferredExports(modulePath, ['der2raw', 'raw2der']).join('\n')}\n`,
    },
  ]);
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
