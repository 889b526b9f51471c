/**
 * The command classes the synchronous triggers' bundles use in place of the SDK's (scripts/build.ts
 * resolves the SDK packages' imports there, for those bundles only): a command is its input and the
 * operation its class declares, which is all the clients of functions/common/aws-clients.ts read.
 * The SDK's command classes would each load their whole service client. The input and output types
 * stay the SDK's, so the logic type-checks against the real packages.
 */

/** A command class: `new X(input)` keeps the input; `X.operation` names the operation it sends. */
export interface SdkCommandClass<Input extends object> {
  new (input: Input): { readonly input: Input };
  readonly operation: string;
  /** A document command: plain values, which the client translates to attribute values (lib-dynamodb). */
  readonly document: boolean;
}

/** A command class for the service operation `operation`, taking `Input`. */
export function commandClass<Input extends object>(operation: string, options: { document?: boolean } = {}): SdkCommandClass<Input> {
  return class {
    static readonly operation = operation;
    static readonly document = options.document === true;
    constructor(readonly input: Input) {}
  };
}
