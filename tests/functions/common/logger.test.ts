import { Logger } from '@aws-lambda-powertools/logger';
import { expect } from 'chai';
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { emailDomain, fingerprint, lazyConsoleSink, logger } from '../../../functions/common/logger.ts';
import { captureLogs } from '../../fixtures/logs.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

/** Two in-memory streams and how often the sink asked for each. */
function memoryStreams() {
  const text = { stdout: '', stderr: '' };
  const asked = { stdout: 0, stderr: 0 };
  const stream = (name: 'stdout' | 'stderr') => {
    const s = new PassThrough();
    s.setEncoding('utf8').on('data', (chunk: string) => (text[name] += chunk));
    return s;
  };
  const out = stream('stdout');
  const err = stream('stderr');
  return {
    text,
    asked,
    streams: {
      stdout: () => (asked.stdout++, out),
      stderr: () => (asked.stderr++, err),
    },
  };
}

describe('logger', () => {
  describe('lazyConsoleSink', () => {
    it('asks for neither stream until a line is written, then for each stream once', () => {
      const m = memoryStreams();
      const sink = lazyConsoleSink(m.streams);
      expect(m.asked).to.deep.equal({ stdout: 0, stderr: 0 });
      sink.info('one');
      sink.debug('two');
      expect(m.asked).to.deep.equal({ stdout: 1, stderr: 0 });
      sink.warn('three');
      sink.error('four');
      expect(m.asked).to.deep.equal({ stdout: 1, stderr: 1 });
    });

    it('writes TRACE to INFO on stdout and WARN and above on stderr, one line each, as Powertools does', () => {
      const m = memoryStreams();
      const sink = lazyConsoleSink(m.streams);
      for (const method of ['trace', 'debug', 'info', 'log', 'warn', 'error'] as const) sink[method](`{"m":"${method}"}`);
      expect(m.text.stdout).to.equal('{"m":"trace"}\n{"m":"debug"}\n{"m":"info"}\n{"m":"log"}\n');
      expect(m.text.stderr).to.equal('{"m":"warn"}\n{"m":"error"}\n');
    });

    it('writes a line that holds format specifiers as it is', () => {
      const m = memoryStreams();
      lazyConsoleSink(m.streams).info('{"message":"100%s done %d %o"}');
      expect(m.text.stdout).to.equal('{"message":"100%s done %d %o"}\n');
    });
  });

  describe('the functions\' logger', () => {
    it('replaces the console Powertools would build, through the method its constructor calls', () => {
      // If a Powertools release renames or drops setConsole, the override silently stops applying.
      expect(Object.hasOwn(Logger.prototype, 'setConsole'), 'Powertools Logger.prototype.setConsole').to.equal(true);
      expect(logger).to.be.instanceOf(Logger);
      const sink = (logger as unknown as { console: object }).console;
      expect(Object.keys(sink).sort()).to.deep.equal(['debug', 'error', 'info', 'log', 'trace', 'warn']);
    });

    it('does not make Node create stdout or stderr when it is built, only when it first writes to each', async () => {
      // The module as the build bundles it, loaded by a fresh plain node (as Lambda loads a bundle), whose
      // stream getters are watched before the bundle loads. Not through tsx: its first compile of a file
      // starts esbuild, which reads both streams itself.
      const dir = await mkdtemp(path.join(os.tmpdir(), 'logger-streams-'));
      try {
        const bundle = path.join(dir, 'logger.cjs');
        await build({ entryPoints: [path.join(repoRoot, 'functions/common/logger.ts')], outfile: bundle, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
        const script = `
          const seen = new Set();
          for (const name of ['stdout', 'stderr']) {
            const get = Object.getOwnPropertyDescriptor(process, name).get;
            Object.defineProperty(process, name, { configurable: true, get() { seen.add(name); return get.call(process); } });
          }
          const { logger } = require(${JSON.stringify(bundle)});
          const built = [...seen];
          logger.info('first');
          const afterInfo = [...seen];
          logger.warn('second');
          require('node:fs').writeSync(3, JSON.stringify({ built, afterInfo, afterWarn: [...seen] }));
        `;
        const run = spawnSync(process.execPath, ['-e', script], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '' },
          stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
          encoding: 'utf8',
          timeout: 30_000,
        });
        expect(run.status, run.stderr).to.equal(0);
        const report = JSON.parse(String(run.output[3])) as { built: string[]; afterInfo: string[]; afterWarn: string[] };
        expect(report.built, 'streams read while the module loaded').to.deep.equal([]);
        expect(report.afterInfo).to.deep.equal(['stdout']);
        expect(report.afterWarn).to.deep.equal(['stdout', 'stderr']);
        expect(JSON.parse(run.stdout.trim())).to.include({ level: 'INFO', message: 'first' });
        expect(JSON.parse(run.stderr.trim())).to.include({ level: 'WARN', message: 'second' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('writes DEBUG and INFO lines to stdout and WARN, ERROR and CRITICAL lines to stderr, with the function\'s fields first', async () => {
      const { streams } = await captureLogs(async () => {
        logger.debug('d');
        logger.info('i');
        logger.warn('w');
        logger.error('e');
        logger.critical('c');
      });
      const read = (text: string) => text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(read(streams.stdout).map((l) => [l.level, l.message])).to.deep.equal([['DEBUG', 'd'], ['INFO', 'i']]);
      expect(read(streams.stderr).map((l) => [l.level, l.message])).to.deep.equal([['WARN', 'w'], ['ERROR', 'e'], ['CRITICAL', 'c']]);
      expect(Object.keys(read(streams.stdout)[0]!).slice(0, 4)).to.deep.equal(['timestamp', 'level', 'service', 'message']);
    });
  });

  describe('fingerprint', () => {
    it('is the first 64 bits of the SHA-256 of the trimmed, lower-cased value', () => {
      // `printf %s frodo@gmail.com | sha256sum | cut -c1-16`
      expect(fingerprint('  Frodo@Gmail.com ')).to.equal('bb0996515bcd29b7');
      expect(fingerprint('frodo@gmail.com')).not.to.equal(fingerprint('sam@gmail.com'));
    });
  });

  describe('emailDomain', () => {
    it('gives the lower-cased part after the last @, and nothing for a value without one', () => {
      expect(emailDomain('Frodo@Shire.Example')).to.equal('shire.example');
      expect(emailDomain('"a@b"@gmail.com')).to.equal('gmail.com');
      expect(emailDomain('no-at-sign')).to.equal(undefined);
      expect(emailDomain(undefined)).to.equal(undefined);
    });
  });
});
