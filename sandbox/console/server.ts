/**
 * The sandbox console: one web page, served on 127.0.0.1, that shows at a glance what someone testing
 * an app by hand needs: every message with its code, the users and their locks, and the reminder
 * workflow's executions (sandbox/console/state.ts). The page polls `GET /api/state` and redraws itself.
 *
 * Two actions save waiting: run a held workflow wait now, and clear a login's sign-in lock (what
 * `make unlock` does). Because the sandbox holds codes and accepts any credentials, the console guards
 * against other web pages in the same browser: it answers only requests addressed to its own host
 * name and port (no DNS rebinding), actions need a JSON body (so a cross-site form cannot post one,
 * and a cross-site script needs a preflight the console never grants) and a same-origin `Origin`, and
 * a strict Content-Security-Policy keeps the page to its own script and style.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { bodyServer, listen, sendJson, type Listening } from '../lib/http.ts';
import type { ConsoleSnapshots } from './state.ts';

/** What the console's buttons do. Each resolves to false when there was nothing to do. */
export interface ConsoleActions {
  /** Ends the wait an execution is holding, so its next task runs now. */
  skipWait(executionArn: string): Promise<boolean>;
  /** Clears a login's attempt counter and lock. */
  clearLock(login: string): Promise<boolean>;
}

const WEB = path.join(import.meta.dirname, 'web');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Bundles the page's script once, on first request, so a sandbox that nobody looks at pays nothing. */
async function bundlePage(): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({ entryPoints: [path.join(WEB, 'page.ts')], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022', logLevel: 'silent' });
  return result.outputFiles[0]!.text;
}

export class SandboxConsole {
  private listening?: Listening;
  private assets?: Promise<Record<string, { type: string; body: string }>>;

  constructor(
    private readonly snapshots: Pick<ConsoleSnapshots, 'snapshot'>,
    private readonly actions: ConsoleActions,
  ) {}

  /** The page's address, `http://127.0.0.1:<port>/`. */
  get url(): string {
    return `${this.listening!.url}/`;
  }

  private loadAssets(): Promise<Record<string, { type: string; body: string }>> {
    this.assets ??= (async () => {
      const [html, css, js] = await Promise.all([readFile(path.join(WEB, 'index.html'), 'utf8'), readFile(path.join(WEB, 'style.css'), 'utf8'), bundlePage()]);
      return {
        '/': { type: 'text/html; charset=utf-8', body: html },
        '/console.css': { type: 'text/css; charset=utf-8', body: css },
        '/console.js': { type: 'text/javascript; charset=utf-8', body: js },
      };
    })();
    // A failed bundle is retried on the next request rather than cached.
    this.assets.catch(() => (this.assets = undefined));
    return this.assets;
  }

  /** Whether the request names this server as 127.0.0.1 or localhost at its own port. */
  private ownHost(value: string | undefined): boolean {
    const port = this.listening!.port;
    return value === `127.0.0.1:${port}` || value === `localhost:${port}`;
  }

  /** Why an action request must be refused, or undefined when it may run. */
  private actionRefusal(req: IncomingMessage): string | undefined {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return 'Actions take a JSON body.';
    const origin = req.headers.origin;
    if (origin !== undefined && !(origin.startsWith('http://') && this.ownHost(origin.slice('http://'.length)))) return 'Actions are accepted only from the console page.';
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return 'Actions are accepted only from the console page.';
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    if (!this.ownHost(req.headers.host)) return sendJson(res, 421, { message: `The console answers only at ${this.url}` }, SECURITY_HEADERS);
    const { pathname } = new URL(req.url ?? '/', 'http://console');
    if (req.method === 'GET' && pathname === '/api/state') return sendJson(res, 200, await this.snapshots.snapshot(), SECURITY_HEADERS);
    if (req.method === 'GET') {
      const asset = (await this.loadAssets())[pathname === '/index.html' ? '/' : pathname];
      if (!asset) return sendJson(res, 404, { message: `Nothing at ${pathname}` }, SECURITY_HEADERS);
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': Buffer.byteLength(asset.body) });
      return void res.end(asset.body);
    }
    if (req.method === 'POST' && (pathname === '/api/skip-wait' || pathname === '/api/clear-lock')) {
      const refusal = this.actionRefusal(req);
      if (refusal) return sendJson(res, 403, { message: refusal }, SECURITY_HEADERS);
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return sendJson(res, 400, { message: 'The body is not JSON.' }, SECURITY_HEADERS);
      }
      const field = pathname === '/api/skip-wait' ? 'executionArn' : 'login';
      const value = input?.[field];
      if (typeof value !== 'string' || value === '') return sendJson(res, 400, { message: `Give ${field}.` }, SECURITY_HEADERS);
      const done = pathname === '/api/skip-wait' ? await this.actions.skipWait(value) : await this.actions.clearLock(value);
      return sendJson(res, 200, { done }, SECURITY_HEADERS);
    }
    sendJson(res, 405, { message: `${req.method} ${pathname} is not served` }, { ...SECURITY_HEADERS, allow: 'GET, POST' });
  }

  async start(port = 0): Promise<void> {
    this.listening = await listen(bodyServer((req, res, body) => this.handle(req, res, body)), port);
  }

  async stop(): Promise<void> {
    await this.listening?.close();
  }
}
