/**
 * The example web app in a real browser: Debian's Chromium, driven by playwright-core, runs the
 * Amplify v6 page with its default settings against the sandbox, as a person would by hand. It signs
 * up, reads the code from the sandbox console page, confirms, signs in (Amplify's default SRP flow),
 * sees the ID token's claims without the email, signs out, and then meets the lockout.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { exampleConfig, startExampleApp, type ExampleApp } from '../../examples/web/server.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { launchChromium, type TestBrowser } from '../fixtures/browser.ts';
import { lockout } from '../sandbox/clients/app.ts';

const PASSWORD = 'Second-Breakfast-42';
const WAIT = { timeout: 30_000 };

/** A Cognito call the page made: its operation and, for sign-in calls, the flow or challenge. */
interface CognitoCall {
  readonly operation: string;
  readonly flow?: string;
}

describe('example web app in Chromium (Amplify v6 defaults against the sandbox)', function () {
  this.timeout(180_000);
  let sandbox: Sandbox;
  let app: ExampleApp;
  let browser: TestBrowser;
  let page: Page;
  let consolePage: Page;
  const calls: CognitoCall[] = [];
  const email = `samwise.${Date.now()}@gmail.com`;

  /** Submits one of the page's forms and waits until its action has finished. */
  async function submit(form: string): Promise<void> {
    await page.click(`#${form} button[type=submit]`);
    // The submit handler marks the form busy before its first await; a signed-in page hides the form, so not `visible`.
    await page.waitForSelector(`#${form}[aria-busy="false"]`, { ...WAIT, state: 'attached' });
  }

  const text = async (selector: string) => ((await page.textContent(selector)) ?? '').trim();
  const visibleError = async () => ((await page.isVisible('#error')) ? text('#error') : '');

  before(async function () {
    this.timeout(240_000);
    sandbox = await startSandbox({ waits: 'manual' });
    app = await startExampleApp({ config: () => exampleConfig(sandbox.endpoints) });
    browser = await launchChromium();
    page = await browser.context.newPage();
    const endpoint = sandbox.endpoints.cognito.endpoint;
    page.on('request', (request) => {
      if (!request.url().startsWith(endpoint) || request.method() !== 'POST') return;
      const target = request.headers()['x-amz-target'] ?? '';
      const body = (request.postDataJSON() ?? {}) as { AuthFlow?: string; ChallengeName?: string };
      calls.push({ operation: target.slice(target.lastIndexOf('.') + 1), ...(body.AuthFlow || body.ChallengeName ? { flow: body.AuthFlow ?? body.ChallengeName } : {}) });
    });
    consolePage = await browser.context.newPage();
    await consolePage.goto(sandbox.endpoints.console.url);
    await page.goto(app.url);
    await page.waitForSelector('#signed-out:not([hidden])', WAIT);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await sandbox?.stop();
  });

  it('is configured from the sandbox: the pool, the app client and the endpoint, and nothing else', async () => {
    expect(await text('#target')).to.include(sandbox.endpoints.cognito.userPoolId).and.include(sandbox.endpoints.cognito.clientId).and.include(sandbox.endpoints.cognito.endpoint);
  });

  it('signs up, confirms with the code read from the console page, signs in by SRP and shows the ID token claims without the email', async () => {
    await page.fill('#sign-up [name=email]', email);
    await page.fill('#sign-up [name=name]', 'Samwise');
    await page.fill('#sign-up [name=password]', PASSWORD);
    await submit('sign-up');
    expect(await visibleError()).to.equal('');
    expect(await text('#status')).to.match(/^Signed up\. Enter the code sent to/);

    // The console redraws by itself: no reload between sign-up and the code appearing.
    const message = consolePage.locator(`.message[data-to="${email}"]`).first();
    await message.locator('.code-value').waitFor(WAIT);
    const code = ((await message.locator('.code-value').textContent()) ?? '').trim();
    expect(code).to.match(/^\d{6}$/);
    expect(await message.locator('.code-label').textContent()).to.equal('Confirmation code');
    await consolePage.locator(`.user[data-user="${email}"]`).filter({ hasText: 'UNCONFIRMED' }).waitFor(WAIT);

    expect(await page.inputValue('#confirm [name=email]')).to.equal(email);
    await page.fill('#confirm [name=code]', code);
    await submit('confirm');
    expect(await visibleError()).to.equal('');
    expect(await text('#status')).to.equal('Email confirmed. You can sign in now.');
    await consolePage.locator(`.user[data-user="${email}"]`).filter({ hasText: 'CONFIRMED' }).filter({ hasNotText: 'UNCONFIRMED' }).waitFor(WAIT);

    await page.fill('#sign-in [name=password]', PASSWORD);
    await submit('sign-in');
    expect(await visibleError()).to.equal('');
    await page.waitForSelector('#signed-in:not([hidden])', WAIT);
    expect(await text('#who')).to.equal(email);

    const claims = Object.fromEntries(
      await page.$$eval('#claims tr', (rows) => rows.map((row) => [row.getAttribute('data-claim') ?? '', row.querySelector('td:last-child')?.textContent ?? ''])),
    ) as Record<string, string>;
    expect(claims).to.include({ token_use: 'id', name: 'Samwise', aud: sandbox.endpoints.cognito.clientId });
    expect(claims.sub).to.match(/^[0-9a-f-]{36}$/);
    expect(claims.iss).to.equal(`${sandbox.endpoints.cognito.endpoint}/${sandbox.endpoints.cognito.userPoolId}`);
    expect(claims, 'the pre token generation trigger removes the email claims').to.not.have.any.keys('email', 'email_verified');

    // Amplify's default flow, not the password flow: an SRP start answered by the password verifier challenge.
    const signIn = calls.filter((c) => c.operation === 'InitiateAuth' || c.operation === 'RespondToAuthChallenge');
    expect(signIn).to.deep.equal([
      { operation: 'InitiateAuth', flow: 'USER_SRP_AUTH' },
      { operation: 'RespondToAuthChallenge', flow: 'PASSWORD_VERIFIER' },
    ]);
  });

  it('signs out, and stays signed out after a reload', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('#signed-out:not([hidden])', WAIT);
    expect(await text('#status')).to.equal('Signed out.');
    await page.reload();
    await page.waitForSelector('#signed-out:not([hidden])', WAIT);
    expect(await page.isVisible('#signed-in')).to.equal(false);
  });

  it('shows the lockout message once too many wrong passwords were tried, the right one included', async () => {
    await page.fill('#sign-in [name=email]', email);
    const { maxAttempts } = lockout(sandbox);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      await page.fill('#sign-in [name=password]', `Wrong-Password-${attempt}`);
      await submit('sign-in');
      expect(await visibleError(), `attempt ${attempt}`).to.equal('NotAuthorizedException: Incorrect username or password.');
    }
    await page.fill('#sign-in [name=password]', PASSWORD);
    await submit('sign-in');
    expect(await visibleError()).to.match(/^UserLambdaValidationException: PreAuthentication failed with error Too many sign-in attempts\. Try again in \d+ minutes?\.$/);
    expect(await page.isVisible('#signed-in')).to.equal(false);
  });
});
