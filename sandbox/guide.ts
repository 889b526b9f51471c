/**
 * What `make sandbox` prints once everything listens: where the console and the endpoints are, how to
 * point a client at the pool, how long the reminder workflow waits and where to change that.
 */
import { overrideVariable } from '../infra/config.ts';
import { reminderWaits } from './console/state.ts';
import type { Sandbox } from './index.ts';

/** "10 minutes", "1 hour 30 minutes", "45 seconds". */
export function describeDuration(seconds: number): string {
  const s = Math.round(seconds);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (s < 60) return plural(s, 'second');
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const parts = [hours ? plural(hours, 'hour') : '', minutes ? plural(minutes, 'minute') : '', rest && !hours ? plural(rest, 'second') : ''].filter(Boolean);
  return parts.join(' ');
}

export interface GuideOptions {
  /** The endpoints file, as the reader should type it. */
  readonly endpointsFile: string;
  /** The wait scale in force (`SANDBOX_WAIT_SCALE`). */
  readonly waitScale: number;
}

/** The text `make sandbox` prints at start. */
export function startupGuide(sandbox: Pick<Sandbox, 'stack' | 'endpoints'> & { readonly urls: Pick<Sandbox['urls'], 'ses'> }, options: GuideOptions): string {
  const e = sandbox.endpoints;
  const waits = reminderWaits(sandbox.stack.stateMachine?.definition);
  const scaled = (seconds: number) => describeDuration(seconds * options.waitScale);
  const reminder = overrideVariable(['workflow', 'reminderDelaySeconds']);
  const deletion = overrideVariable(['workflow', 'deletionDelaySeconds']);
  const workflow = waits
    ? `An unconfirmed user is reminded ${scaled(waits.reminderSeconds)} after signing up and deleted ${scaled(waits.deletionSeconds)} after the reminder.
Change the waits in config/sandbox.json (workflow.reminderDelaySeconds, workflow.deletionDelaySeconds),
for one run with ${reminder}=<seconds> ${deletion}=<seconds> make sandbox,
or scale both with SANDBOX_WAIT_SCALE (${options.waitScale} now). The console's "Run now" button ends one wait at once.`
    : 'This stack has no reminder workflow.';
  return `
The sandbox is running (stack ${sandbox.stack.stackName}, functions from dist/). Endpoints: ${options.endpointsFile}

  Console  ${e.console.url}
           every email and SMS with its code, the users and their sign-in locks, the reminder workflows

${workflow}

Point the Cognito client at it (any credentials work):

  import { CognitoIdentityProviderClient, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
  const cognito = new CognitoIdentityProviderClient({
    region: '${e.region}', endpoint: '${e.cognito.endpoint}',
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
  });
  await cognito.send(new SignUpCommand({ ClientId: '${e.cognito.clientId}', Username: 'frodo@gmail.com', Password: 'Second-Breakfast-42' }));

  or Amplify: Amplify.configure({ Auth: { Cognito: { userPoolId: '${e.cognito.userPoolId}', userPoolClientId: '${e.cognito.clientId}', userPoolEndpoint: '${e.cognito.endpoint}' } } })
  An example web app on Amplify's defaults: make example, in a second terminal

  User pool ${e.cognito.userPoolId}, app client ${e.cognito.clientId}
  Legacy pool ${e.cognito.legacyUserPoolId}, client ${e.cognito.legacyClientId} (create users there to try migration)
  DynamoDB ${e.dynamodb.endpoint}, table ${e.dynamodb.tableName}

Read codes and emails as JSON too (oldest first, codes in plain text):
  curl ${e.stores.sendgrid}   # codes from the custom email sender
  curl ${e.stores.twilio}     # SMS codes from the custom SMS sender
  curl ${e.stores.ses}        # welcome, reminder and deletion emails
  Mail viewer: ${sandbox.urls.ses}

Ctrl-C stops everything.`;
}
