/**
 * The Lambda runtime every function is deployed to. The stack deploys it, the build targets it, and
 * the sandbox and the tests run the bundles on the same Node.js major (through the npm `node`
 * package, sandbox/lambda/node.ts), so a change of runtime is made here once.
 */

/** Lambda's managed runtime identifier. */
export const LAMBDA_RUNTIME = 'nodejs22.x';

/** The instruction set the functions run on (Graviton: cheaper per GB-second than x86_64). */
export const LAMBDA_ARCHITECTURE = 'arm64';

/** The Node.js major version of {@link LAMBDA_RUNTIME}. */
export const LAMBDA_NODE_MAJOR = Number(/^nodejs(\d+)\.x$/.exec(LAMBDA_RUNTIME)![1]);

/** esbuild's target for the bundles: the runtime's Node, not the machine that builds them. */
export const LAMBDA_ESBUILD_TARGET = `node${LAMBDA_NODE_MAJOR}`;
