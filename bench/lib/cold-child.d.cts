/** Types of cold-child.cjs, the plain CommonJS process cold starts are timed in. */
import type { Context } from 'aws-lambda';

/** A Lambda context as the Node.js runtime passes it, for a function invoked with `memoryMb` (default 256). */
export declare function lambdaContext(functionName: string, memoryMb?: number): Context;
