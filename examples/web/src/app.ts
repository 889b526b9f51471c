/**
 * A minimal sign-up / confirm / sign-in / sign-out page on aws-amplify v6 with its default settings:
 * the only configuration is the pool, the app client and the sandbox's endpoint, which the page reads
 * from `config.json` (served from the running sandbox's endpoints), so nothing here names a sandbox.
 * Sign-in therefore uses Amplify's default flow, USER_SRP_AUTH, and the tokens live in local storage.
 */
import { Amplify } from 'aws-amplify';
import { confirmSignUp, fetchAuthSession, getCurrentUser, resendSignUpCode, signIn, signOut, signUp } from 'aws-amplify/auth';
import type { ExampleConfig } from './config.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const form = (id: string) => $<HTMLFormElement>(id);
const field = (f: HTMLFormElement, name: string) => (f.elements.namedItem(name) as HTMLInputElement).value.trim();
const setField = (f: HTMLFormElement, name: string, value: string) => ((f.elements.namedItem(name) as HTMLInputElement).value = value);

function say(text: string): void {
  $('status').textContent = text;
  $('error').hidden = true;
}

/** Shows what Cognito (through the triggers) said; its messages are written to be shown to the user. */
function fail(error: unknown): void {
  const e = error as { name?: string; message?: string };
  $('status').textContent = '';
  $('error').textContent = `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
  $('error').hidden = false;
}

/** Runs a form's action with its buttons disabled and the form marked `aria-busy`, reporting any error. */
async function busy(f: HTMLElement, action: () => Promise<void>): Promise<void> {
  const buttons = [...f.querySelectorAll('button')];
  for (const b of buttons) b.disabled = true;
  f.setAttribute('aria-busy', 'true');
  say('');
  try {
    await action();
  } catch (error) {
    fail(error);
  } finally {
    for (const b of buttons) b.disabled = false;
    f.setAttribute('aria-busy', 'false');
  }
}

async function showSession(): Promise<void> {
  const session = await fetchAuthSession();
  const claims = session.tokens?.idToken?.payload;
  if (!claims) return showSignedOut();
  const user = await getCurrentUser();
  $('who').textContent = user.signInDetails?.loginId ?? user.username;
  $('claims').replaceChildren(
    ...Object.entries(claims).map(([name, value]) => {
      const row = document.createElement('tr');
      row.dataset.claim = name;
      for (const text of [name, typeof value === 'string' ? value : JSON.stringify(value)]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
}

function showSignedOut(): void {
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
}

async function main(): Promise<void> {
  const config = (await (await fetch('config.json', { cache: 'no-store' })).json()) as ExampleConfig;
  Amplify.configure({ Auth: { Cognito: { userPoolId: config.userPoolId, userPoolClientId: config.userPoolClientId, userPoolEndpoint: config.userPoolEndpoint } } });
  $('target').textContent = `pool ${config.userPoolId}, app client ${config.userPoolClientId}, endpoint ${config.userPoolEndpoint}.`;
  if (config.consoleUrl) {
    const link = document.createElement('a');
    link.href = config.consoleUrl;
    link.target = '_blank';
    link.textContent = 'Open the sandbox console';
    $('target').append(' ', link, ' to read the codes.');
  }

  form('sign-up').addEventListener('submit', (event) => {
    event.preventDefault();
    const f = form('sign-up');
    void busy(f, async () => {
      const email = field(f, 'email');
      const name = field(f, 'name');
      const { nextStep } = await signUp({ username: email, password: field(f, 'password'), options: { userAttributes: { email, ...(name ? { name } : {}) } } });
      setField(form('confirm'), 'email', email);
      setField(form('sign-in'), 'email', email);
      say(nextStep.signUpStep === 'CONFIRM_SIGN_UP' ? `Signed up. Enter the code sent to ${nextStep.codeDeliveryDetails.destination ?? email}.` : 'Signed up.');
      (form('confirm').elements.namedItem('code') as HTMLInputElement).focus();
    });
  });

  form('confirm').addEventListener('submit', (event) => {
    event.preventDefault();
    const f = form('confirm');
    void busy(f, async () => {
      await confirmSignUp({ username: field(f, 'email'), confirmationCode: field(f, 'code') });
      setField(form('sign-in'), 'email', field(f, 'email'));
      say('Email confirmed. You can sign in now.');
    });
  });

  $('resend').addEventListener('click', () => {
    const f = form('confirm');
    void busy(f, async () => {
      const details = await resendSignUpCode({ username: field(f, 'email') });
      say(`A new code is on its way to ${details.destination ?? field(f, 'email')}.`);
    });
  });

  form('sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    const f = form('sign-in');
    void busy(f, async () => {
      const { isSignedIn, nextStep } = await signIn({ username: field(f, 'email'), password: field(f, 'password') });
      if (isSignedIn) {
        say('Signed in.');
        await showSession();
      } else if (nextStep.signInStep === 'CONFIRM_SIGN_UP') {
        setField(form('confirm'), 'email', field(f, 'email'));
        say('Confirm your email first: enter the code you were sent.');
      } else {
        say(`Cognito asks for another step: ${nextStep.signInStep}.`);
      }
    });
  });

  $('sign-out').addEventListener('click', () => {
    void busy($('signed-in'), async () => {
      await signOut();
      showSignedOut();
      say('Signed out.');
    });
  });

  try {
    await showSession();
  } catch {
    showSignedOut();
  }
}

main().catch(fail);
