/**
 * The synchronous triggers' AWS clients, with the SDK's `send(command)` interface over
 * {@link AwsJsonClient}, so their logic (which takes `Pick<SDKClient, 'send'>` and sends the SDK's
 * command classes) and its tests stay exactly as they are.
 *
 * A client accepts the commands the triggers send, by the command's class: the SDK's own classes
 * (in tests and under tsx), or the classes of functions/common/sdk-commands/, which the build puts in
 * their place in the synchronous triggers' bundles (scripts/build.ts), because the SDK's command
 * classes would load the whole SDK client with them. Any other command is refused when it is sent,
 * naming it, rather than sent wrongly. bench/naive/aws-clients.ts is these same factories over the
 * SDK's clients: the benchmark's naive baseline.
 */
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient, TranslateConfig } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { AwsJsonClient, COGNITO_USER_POOLS, DYNAMODB, SES_V2, STEP_FUNCTIONS, type AwsService, type CallOptions } from './aws-json.ts';
import type { ClientBudget } from './budgets.ts';

/** What a client needs of a command: its input, and what tells the operation. */
interface SdkShapedCommand {
  readonly input: object;
}

/** The operation a command sends, and whether it is a document command (plain values, translated to attribute values). */
export interface CommandOperation {
  readonly operation: string;
  readonly document: boolean;
}

/**
 * What `command` sends. A class of functions/common/sdk-commands/ declares it. An SDK command carries
 * its operation's schema (`[9, namespace, name, ...]`), and a lib-dynamodb document command wraps
 * the DynamoDB command it sends as `clientCommand`. Class names cannot tell: bundlers rename them.
 */
export function commandOperation(command: SdkShapedCommand): CommandOperation | undefined {
  const declared = command.constructor as { operation?: unknown; document?: unknown };
  if (typeof declared.operation === 'string') return { operation: declared.operation, document: declared.document === true };
  const wrapped = (command as { clientCommand?: { schema?: unknown } }).clientCommand;
  const schema = (wrapped ?? (command as { schema?: unknown })).schema;
  return Array.isArray(schema) && schema[0] === 9 && typeof schema[2] === 'string' ? { operation: schema[2], document: wrapped !== undefined } : undefined;
}

/** How one operation travels: how a command's input and the output are translated, and, for a REST-JSON operation, its method and path. */
interface Route {
  readonly rest?: { readonly method: 'POST' | 'PUT'; readonly path: `/${string}` };
  readonly request?: (input: Record<string, unknown>, command: CommandOperation) => object;
  readonly response?: (output: Record<string, unknown>, command: CommandOperation) => Record<string, unknown>;
}

/** `send` over `client` for the operations in `routes`; typed as the SDK client's own `send`. */
function sdkShaped<Client extends { send: unknown }>(client: AwsJsonClient, routes: Readonly<Record<string, Route>>): Pick<Client, 'send'> {
  const send = async (command: SdkShapedCommand, options?: CallOptions) => {
    const sent = commandOperation(command);
    const route = sent && Object.hasOwn(routes, sent.operation) ? routes[sent.operation]! : undefined;
    if (!sent || !route) throw new Error(`the ${client.endpoint.hostname} client does not send ${sent?.operation ?? command.constructor.name}`);
    const input = command.input as Record<string, unknown>;
    const wire = route.request ? route.request(input, sent) : input;
    const output = route.rest ? await client.callRest(route.rest.method, route.rest.path, wire, options) : await client.call(sent.operation, wire, options);
    return route.response ? route.response(output, sent) : output;
  };
  // The SDK's send has overloads (callbacks, generic commands) that nothing here uses; the promise form is the one the logic calls.
  return { send } as unknown as Pick<Client, 'send'>;
}

function client(service: AwsService, budget: ClientBudget, region?: string): AwsJsonClient {
  return new AwsJsonClient({ service, budget, ...(region ? { region } : {}) });
}

/** Epoch-seconds members of an output, as Dates (what the SDK makes of the protocol's timestamps). */
function dates(...members: string[]): NonNullable<Route['response']> {
  return (output) => {
    for (const m of members) if (typeof output[m] === 'number') output[m] = new Date(output[m] * 1000);
    return output;
  };
}

type MarshallOptions = NonNullable<TranslateConfig['marshallOptions']>;
type UnmarshallOptions = NonNullable<TranslateConfig['unmarshallOptions']>;

/**
 * The document client's translation of one map of values (`Key`, `Item`, `ExpressionAttributeValues`):
 * each value converted on its own, and undefined or function values left out, as lib-dynamodb does.
 */
function marshallValues(values: unknown, options: MarshallOptions): unknown {
  if (values === undefined || values === null || typeof values !== 'object') return values;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || typeof value === 'function') continue;
    out[key] = marshall(value, { ...options, convertTopLevelContainer: true });
  }
  return out;
}

function unmarshallValues(values: unknown, options: UnmarshallOptions): unknown {
  if (values === undefined || values === null || typeof values !== 'object') return values;
  return unmarshall(values as Parameters<typeof unmarshall>[0], options);
}

/** The document-client members that carry values; the legacy parameters (`Expected`, `AttributeUpdates`) are refused. */
const VALUE_MEMBERS = ['Key', 'Item', 'ExpressionAttributeValues'] as const;
const LEGACY_MEMBERS = ['Expected', 'AttributeUpdates', 'QueryFilter', 'ScanFilter', 'KeyConditions'] as const;

/**
 * A DynamoDB document client (lib-dynamodb's `DynamoDBDocumentClient.from(client, translateConfig)`)
 * for GetItem, PutItem, UpdateItem and DeleteItem. Document commands (lib-dynamodb's) are translated
 * both ways; DynamoDB's own commands go as they are, as through the SDK's document client. As there,
 * a failed condition's `Item` stays in attribute-value form.
 */
export function dynamoDbDocumentClient(budget: ClientBudget, translateConfig: TranslateConfig = {}): Pick<DynamoDBDocumentClient, 'send'> {
  const marshallOptions = translateConfig.marshallOptions ?? {};
  const unmarshallOptions = translateConfig.unmarshallOptions ?? {};
  const route: Route = {
    request: (input, command) => {
      if (!command.document) return input;
      const legacy = LEGACY_MEMBERS.find((m) => input[m] !== undefined);
      if (legacy) throw new Error(`${legacy} is a legacy DynamoDB parameter this client does not translate: use the expression parameters`);
      const wire = { ...input };
      for (const m of VALUE_MEMBERS) if (wire[m] !== undefined) wire[m] = marshallValues(wire[m], marshallOptions);
      return wire;
    },
    response: (output, command) => {
      if (command.document) for (const m of ['Item', 'Attributes'] as const) if (output[m] !== undefined) output[m] = unmarshallValues(output[m], unmarshallOptions);
      return output;
    },
  };
  return sdkShaped<DynamoDBDocumentClient>(client(DYNAMODB, budget), { GetItem: route, PutItem: route, UpdateItem: route, DeleteItem: route });
}

/** A Step Functions client for StartExecution. */
export function stepFunctionsClient(budget: ClientBudget): Pick<SFNClient, 'send'> {
  return sdkShaped<SFNClient>(client(STEP_FUNCTIONS, budget), { StartExecution: { response: dates('startDate') } });
}

/** A Cognito user pools client for AdminInitiateAuth and AdminGetUser, in `region` (defaults to `AWS_REGION`). */
export function cognitoUserPoolsClient(budget: ClientBudget, region?: string): Pick<CognitoIdentityProviderClient, 'send'> {
  return sdkShaped<CognitoIdentityProviderClient>(client(COGNITO_USER_POOLS, budget, region), {
    AdminInitiateAuth: {},
    AdminGetUser: { response: dates('UserCreateDate', 'UserLastModifiedDate') },
  });
}

/** An SES v2 client for SendEmail (REST-JSON: `POST /v2/email/outbound-emails`). */
export function sesV2Client(budget: ClientBudget): Pick<SESv2Client, 'send'> {
  return sdkShaped<SESv2Client>(client(SES_V2, budget), { SendEmail: { rest: { method: 'POST', path: '/v2/email/outbound-emails' } } });
}
