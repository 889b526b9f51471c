/**
 * Serves the example web app: the page, its script bundled by esbuild from src/app.ts (with its source
 * map), and `config.json`, which tells the page where the sandbox's pool is. Binds to 127.0.0.1 only.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { bodyServer, listen, sendJson } from '../../sandbox/lib/http.ts';
import type { SandboxEndpoints } from '../../sandbox/index.ts';
import type { ExampleConfig } from './src/config.ts';

/** The port `make example` serves on; `config/sandbox.json`'s `email.appUrl`, the link in every email, names it. */
export const EXAMPLE_PORT = 3000;

/** The page's configuration for a running sandbox. */
export function exampleConfig(endpoints: Pick<SandboxEndpoints, 'cognito' | 'console'>): ExampleConfig {
  return {
    userPoolId: endpoints.cognito.userPoolId,
    userPoolClientId: endpoints.cognito.clientId,
    userPoolEndpoint: endpoints.cognito.endpoint,
    consoleUrl: endpoints.console.url,
  };
}

export interface ExampleAppOptions {
  /** Read on every page load, so a restarted sandbox is picked up by reloading the page. Throwing answers 503 with the message. */
  readonly config: () => ExampleConfig | Promise<ExampleConfig>;
  /** Default 0 (a free port). */
  readonly port?: number;
}

export interface ExampleApp {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  stop(): Promise<void>;
}

const HERE = import.meta.dirname;

// The page talks to its own server and to the sandbox's Cognito endpoint, which is on this machine.
const HEADERS = {
  'content-security-policy': "default-src 'self'; connect-src 'self' http://127.0.0.1:* http://localhost:*; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

/** Bundles the app and starts serving it. */
export async function startExampleApp(options: ExampleAppOptions): Promise<ExampleApp> {
  const bundle = await build({
    entryPoints: [path.join(HERE, 'src', 'app.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'linked',
    outdir: HERE,
    logLevel: 'silent',
  });
  const files: Record<string, { type: string; body: string | Uint8Array }> = {
    '/': { type: 'text/html; charset=utf-8', body: await readFile(path.join(HERE, 'index.html'), 'utf8') },
    '/app.css': { type: 'text/css; charset=utf-8', body: await readFile(path.join(HERE, 'app.css'), 'utf8') },
  };
  for (const out of bundle.outputFiles) {
    const name = `/${path.basename(out.path)}`;
    files[name] = { type: name.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8', body: out.contents };
  }
  const listening = await listen(
    bodyServer(async (req, res) => {
      const { pathname } = new URL(req.url ?? '/', 'http://example');
      if (req.method !== 'GET') return sendJson(res, 405, { message: 'GET only' }, HEADERS);
      if (pathname === '/config.json') {
        try {
          return sendJson(res, 200, await options.config(), HEADERS);
        } catch (error) {
          return sendJson(res, 503, { name: 'SandboxNotRunning', message: error instanceof Error ? error.message : String(error) }, HEADERS);
        }
      }
      const file = files[pathname === '/index.html' ? '/' : pathname];
      if (!file) return sendJson(res, 404, { message: `Nothing at ${pathname}` }, HEADERS);
      res.writeHead(200, { ...HEADERS, 'content-type': file.type, 'content-length': Buffer.byteLength(file.body) });
      res.end(file.body);
    }),
    options.port ?? 0,
  );
  return { url: `${listening.url}/`, stop: () => listening.close() };
}
