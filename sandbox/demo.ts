/**
 * `make demo`: the journey of the original design's user, Frodo, replayed offline in the sandbox on
 * the bundles from dist/. Each step checks its real effect (the delivered message, the table row, the
 * token's claims) and prints a line when it passes. Everything is torn down at the end; the exit code
 * is non-zero on any unexpected outcome.
 */
import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  GetUserAttributeVerificationCodeCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SignUpCommand,
  VerifyUserAttributeCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { profileKey, WELCOME_STATUS } from '../functions/common/table.ts';
import { startSandbox, type Sandbox } from './index.ts';
import type { StoredMessage } from './providers.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const PASSWORD = 'Second-Breakfast-42';
const green = (s: string) => (process.stdout.isTTY ? `\u001b[32m${s}\u001b[0m` : s);
const red = (s: string) => (process.stdout.isTTY ? `\u001b[31m${s}\u001b[0m` : s);

class StepFailed extends Error {}
function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new StepFailed(what);
}
const code = (m: StoredMessage) => {
  const found = /\b(\d{6})\b/.exec(m.text)?.[1];
  check(found, `no 6-digit code in the message to ${m.to}`);
  return found;
};
const idClaims = (token?: string) => JSON.parse(Buffer.from((token ?? '..').split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
async function refused(call: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await call;
  } catch (error) {
    return error as { name: string; message: string };
  }
  throw new StepFailed('the call was expected to be refused but succeeded');
}

let failures = 0;
let stepNo = 0;
async function step(title: string, run: () => Promise<string | void>): Promise<void> {
  stepNo++;
  const started = performance.now();
  try {
    const detail = await run();
    console.log(`${green('✔')} ${stepNo}. ${title} ${`(${Math.round(performance.now() - started)} ms)`}${detail ? `\n     ${detail}` : ''}`);
  } catch (error) {
    failures++;
    console.log(`${red('✘')} ${stepNo}. ${title}\n     ${red(error instanceof Error ? `${error.name}: ${error.message}` : String(error))}`);
  }
}

function clients(sandbox: Sandbox) {
  return {
    cognito: new CognitoIdentityProviderClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.cognito.endpoint, credentials: sandbox.credentials, maxAttempts: 1 }),
    dynamo: new DynamoDBClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.dynamodb.endpoint, credentials: sandbox.credentials }),
  };
}

async function journey(sandbox: Sandbox): Promise<void> {
  const { cognito, dynamo } = clients(sandbox);
  const { clientId, userPoolId, legacyUserPoolId } = sandbox.endpoints.cognito;
  const table = sandbox.endpoints.dynamodb.tableName;
  const signIn = (u: string, p: string) => cognito.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: u, PASSWORD: p } }));
  const profile = async (sub: string) => (await dynamo.send(new GetItemCommand({ TableName: table, Key: marshall(profileKey(sub)), ConsistentRead: true }))).Item;
  const execution = (sub: string) => sandbox.workflows.find((input) => input.username === sub)[0];
  const ses = async (to: string) => (await sandbox.stores.ses()).filter((m) => m.to === to);
  let frodo = '';

  await step('A sign-up from a domain not on the allowlist is refused, saying why', async () => {
    const e = await refused(cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'saruman@isengard.com', Password: PASSWORD })));
    check(e.name === 'UserLambdaValidationException' && /^PreSignUp failed with error .+\.$/.test(e.message), `unexpected ${e.name}: ${e.message}`);
    return e.message;
  });

  await step('Frodo signs up with gmail.com: a personalised email brings his code (SendGrid) and the reminder workflow starts', async () => {
    const r = await cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'frodo@gmail.com', Password: PASSWORD, UserAttributes: [{ Name: 'name', Value: 'Frodo Baggins' }] }));
    frodo = r.UserSub!;
    const mail = await sandbox.stores.waitFor('sendgrid', (m) => m.to === 'frodo@gmail.com');
    check(mail.text.includes('Frodo'), 'the email does not greet Frodo by name');
    const c = code(mail);
    check(execution(frodo)?.status === 'RUNNING', 'no running reminder workflow for Frodo');
    return `“${mail.subject}” with code ${c}; workflow ${execution(frodo)!.name}`;
  });

  await step('Frodo waits (the sandbox fast-forwards) and is reminded while still unconfirmed', async () => {
    await sandbox.workflows.fastForward((e) => e === execution(frodo), { awaitHold: true });
    const mail = await sandbox.stores.waitFor('ses', (m) => m.to === 'frodo@gmail.com');
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: frodo }));
    check(user.UserStatus === 'UNCONFIRMED', `status is ${user.UserStatus}`);
    return `reminder “${mail.subject}” (SES)`;
  });

  await step('Frodo confirms with his code: his profile row exists, and its INSERT on the table stream sends one welcome email', async () => {
    const before = (await ses('frodo@gmail.com')).length;
    const c = code(sandbox.stores.sendgrid().find((m) => m.to === 'frodo@gmail.com')!);
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'frodo@gmail.com', ConfirmationCode: c }));
    const row = await profile(frodo);
    check(row?.email?.S === 'frodo@gmail.com', 'no profile row for Frodo');
    await sandbox.settle();
    const welcome = (await ses('frodo@gmail.com')).slice(before);
    check(welcome.length === 1, `${welcome.length} welcome emails`);
    const mark = (await profile(frodo))?.welcomeEmail?.S;
    check(mark === WELCOME_STATUS.sent, `profile welcomeEmail ${mark}`);
    await sandbox.workflows.fastForward((e) => e === execution(frodo), { awaitHold: true });
    await sandbox.workflows.settle();
    check(execution(frodo)!.status === 'SUCCEEDED', `workflow ${execution(frodo)!.status}`);
    return `profile USER#${frodo.slice(0, 8)}… (welcome ${mark}); “${welcome[0]!.subject}”; the workflow left him alone`;
  });

  await step('Frodo signs in: no email claim in the ID token, even after a refresh; his last login is recorded', async () => {
    const r = await signIn('frodo@gmail.com', PASSWORD);
    check(!('email' in idClaims(r.AuthenticationResult?.IdToken)), 'the ID token has an email claim');
    const again = await cognito.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: r.AuthenticationResult!.RefreshToken! } }));
    check(!('email' in idClaims(again.AuthenticationResult?.IdToken)), 'the refreshed ID token has an email claim');
    const row = await profile(frodo);
    check(row?.lastLoginAt, 'no lastLoginAt on his profile');
    return `lastLoginAt ${row.lastLoginAt.S ?? row.lastLoginAt.N}, loginCount ${row.loginCount?.N}`;
  });

  await step('Five wrong passwords, then the right one: locked out with the generic message; after the short lock he signs in', async () => {
    for (let i = 0; i < 5; i++) {
      const e = await refused(signIn('frodo@gmail.com', `Wrong-Password-${i}x`));
      check(e.name === 'NotAuthorizedException', `attempt ${i + 1}: ${e.name}`);
    }
    const locked = await refused(signIn('frodo@gmail.com', PASSWORD));
    check(locked.name === 'UserLambdaValidationException' && locked.message.startsWith('PreAuthentication failed with error '), `${locked.name}: ${locked.message}`);
    const seconds = Number(sandbox.stack.functions.find((f) => f.name === 'pre-authentication')?.environment.LOCKOUT_DURATION_SECONDS ?? 2);
    await new Promise((r) => setTimeout(r, seconds * 1000 + 250));
    const r = await signIn('frodo@gmail.com', PASSWORD);
    check(r.AuthenticationResult?.AccessToken, 'no tokens after the lock');
    return `${locked.message} — signed in again after ${seconds} s`;
  });

  await step('Frodo signs in without his password: a magic link, then an emailed code; the audit records each method', async () => {
    const answer = (session: string | undefined, value: string, signInMethod?: string) =>
      cognito.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'CUSTOM_CHALLENGE', Session: session, ChallengeResponses: { USERNAME: 'frodo@gmail.com', ANSWER: value }, ...(signInMethod ? { ClientMetadata: { signInMethod } } : {}) }));
    const passwordless = async (method: 'link' | 'code', secretOf: (m: StoredMessage) => string) => {
      const before = (await ses('frodo@gmail.com')).length;
      const first = await cognito.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'CUSTOM_AUTH', AuthParameters: { USERNAME: 'frodo@gmail.com' } }));
      const challenge = await answer(first.Session, method, method);
      const mail = (await ses('frodo@gmail.com')).slice(before);
      check(mail.length === 1, `${mail.length} sign-in emails for the ${method}`);
      const r = await answer(challenge.Session, secretOf(mail[0]!));
      check(r.AuthenticationResult?.AccessToken, `no tokens for the ${method}`);
      return mail[0]!;
    };
    const link = await passwordless('link', (m) => new URLSearchParams(new URL(/(https?:\/\/\S+#token=\S+)/.exec(m.text)![1]!).hash.slice(1)).get('token')!);
    // The sandbox allows one sign-in message per login per second.
    await new Promise((r) => setTimeout(r, 1_100));
    const emailed = await passwordless('code', code);
    const audit = await dynamo.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :login)', ExpressionAttributeValues: { ':pk': { S: `USER#${frodo}` }, ':login': { S: 'LOGIN#' } }, ConsistentRead: true }));
    const methods = (audit.Items ?? []).map((i) => i.method?.S);
    check(methods.includes('magic-link') && methods.includes('code'), `audited methods ${methods.join(', ')}`);
    return `“${link.subject}”, then “${emailed.subject}”; audited ${methods.join(', ')}`;
  });

  await step('Samwise signs up and never confirms: reminded, then deleted, and told so', async () => {
    const { UserSub } = await cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'samwise@gmail.com', Password: PASSWORD, UserAttributes: [{ Name: 'name', Value: 'Samwise Gamgee' }] }));
    await sandbox.workflows.fastForward((e) => e === execution(UserSub!), { awaitHold: true });
    await sandbox.workflows.fastForward((e) => e === execution(UserSub!), { awaitHold: true });
    await sandbox.workflows.settle();
    const e = await refused(cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: UserSub! })));
    check(e.name === 'UserNotFoundException', `Samwise still exists (${e.name})`);
    const mails = await ses('samwise@gmail.com');
    check(mails.length === 2, `${mails.length} emails to Samwise, expected a reminder and a deletion notice`);
    return mails.map((m) => `“${m.subject}”`).join(', then ');
  });

  await step('Bilbo, only in the legacy pool, is migrated on sign-in; then signs in without it; a wrong password gets the generic error', async () => {
    await cognito.send(new AdminCreateUserCommand({ UserPoolId: legacyUserPoolId, Username: 'bilbo@gmail.com', MessageAction: 'SUPPRESS', TemporaryPassword: 'Temporary-Pass-1', UserAttributes: [{ Name: 'email', Value: 'bilbo@gmail.com' }, { Name: 'email_verified', Value: 'true' }, { Name: 'name', Value: 'Bilbo Baggins' }] }));
    await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: legacyUserPoolId, Username: 'bilbo@gmail.com', Password: 'There-And-Back-1', Permanent: true }));
    const wrong = await refused(signIn('bilbo@gmail.com', 'Not-His-Password-1'));
    check(wrong.name === 'NotAuthorizedException' && wrong.message === 'Incorrect username or password.', `wrong password: ${wrong.name}: ${wrong.message}`);
    await signIn('bilbo@gmail.com', 'There-And-Back-1');
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: 'bilbo@gmail.com' }));
    const name = user.UserAttributes?.find((a) => a.Name === 'name')?.Value;
    check(user.UserStatus === 'CONFIRMED' && name === 'Bilbo Baggins', `migrated as ${user.UserStatus} named ${name}`);
    await cognito.send(new AdminDeleteUserCommand({ UserPoolId: legacyUserPoolId, Username: 'bilbo@gmail.com' }));
    const r = await signIn('bilbo@gmail.com', 'There-And-Back-1');
    check(r.AuthenticationResult?.AccessToken, 'no tokens once the legacy pool forgot him');
    return `migrated with name “${name}”`;
  });

  await step('A user with a phone number gets an SMS code through the Twilio stand-in', async () => {
    await cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'rosie@gmail.com', Password: PASSWORD, UserAttributes: [{ Name: 'name', Value: 'Rosie Cotton' }, { Name: 'phone_number', Value: '+15555550123' }] }));
    const c = code(await sandbox.stores.waitFor('sendgrid', (m) => m.to === 'rosie@gmail.com'));
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'rosie@gmail.com', ConfirmationCode: c }));
    const token = (await signIn('rosie@gmail.com', PASSWORD)).AuthenticationResult!.AccessToken!;
    await cognito.send(new GetUserAttributeVerificationCodeCommand({ AccessToken: token, AttributeName: 'phone_number' }));
    const sms = await sandbox.stores.waitFor('twilio', (m) => m.to === '+15555550123');
    await cognito.send(new VerifyUserAttributeCommand({ AccessToken: token, AttributeName: 'phone_number', Code: code(sms) }));
    return `SMS: “${sms.text}”`;
  });
  cognito.destroy();
  dynamo.destroy();
}

async function cognitoMode(sandbox: Sandbox): Promise<void> {
  const { cognito, dynamo } = clients(sandbox);
  await step('Delivery mode `cognito`: the code arrives in the message custom-message composed (SES), not through the senders', async () => {
    const { clientId } = sandbox.endpoints.cognito;
    const { UserSub } = await cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'merry@gmail.com', Password: PASSWORD, UserAttributes: [{ Name: 'name', Value: 'Merry Brandybuck' }] }));
    const mail = await sandbox.stores.waitFor('ses', (m) => m.to === 'merry@gmail.com');
    check(mail.text.includes('Merry'), 'the email is not the personalised one');
    check(sandbox.stores.sendgrid().length === 0, 'a sender delivered mail in cognito mode');
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'merry@gmail.com', ConfirmationCode: code(mail) }));
    const row = await dynamo.send(new GetItemCommand({ TableName: sandbox.endpoints.dynamodb.tableName, Key: marshall(profileKey(UserSub!)) }));
    check(row.Item, 'no profile row for Merry');
    return `“${mail.subject}”`;
  });
  cognito.destroy();
  dynamo.destroy();
}

const started = performance.now();
const sandboxes: Sandbox[] = [];
const teardown = async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.stop()));
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void teardown().finally(() => process.exit(130));
  });
}
try {
  console.log('Starting the sandbox (cognito-local, dynalite, local SES, KMS, Step Functions, SendGrid and Twilio stand-ins, the functions from dist/)…');
  const [main, cognitoDelivery] = await Promise.all([startSandbox({ waits: 'manual' }), startSandbox({ waits: 'manual', deliveryMode: 'cognito', prewarm: false })]);
  sandboxes.push(main, cognitoDelivery);
  console.log(`Sandbox up in ${Math.round(performance.now() - started)} ms (stack ${main.stack.stackName}, from the synthesized Terraform).\n`);
  await journey(main);
  await cognitoMode(cognitoDelivery);
} catch (error) {
  failures++;
  console.error(red(`The demo could not run: ${error instanceof Error ? error.stack : String(error)}`));
} finally {
  await teardown();
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (failures) {
  console.log(red(`\n${failures} step(s) failed (${seconds} s). Everything was torn down.`));
  process.exit(1);
}
console.log(green(`\nAll ${stepNo} steps passed in ${seconds} s. Everything was torn down.`));
