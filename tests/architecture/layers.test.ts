/**
 * The layers of docs/architecture.md, checked on the source: functions → infra → sandbox and scripts →
 * bench. A module may import from its own layer and the layers before it, never from a later one, and
 * every catalog function has its handler, its infrastructure module and its test where the table says.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { FUNCTIONS } from '../../functions/catalog.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** What each top-level folder may not import. */
const FORBIDDEN: Record<string, readonly string[]> = {
  functions: ['infra', 'sandbox', 'scripts', 'bench', 'tests'],
  infra: ['sandbox', 'scripts', 'bench', 'tests'],
  sandbox: ['scripts', 'bench', 'tests'],
  scripts: ['bench', 'tests'],
};

/** The one deliberate exception: the reliability report renders the figures the reliability suite records. */
const ALLOWED = new Set(['scripts/reliability-report.ts imports tests/']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const file = path.join(dir, entry);
    if (statSync(file).isDirectory()) return entry === 'node_modules' ? [] : sources(file);
    return entry.endsWith('.ts') ? [file] : [];
  });
}

/** The project folders a file imports from (static and dynamic imports, re-exports). */
export function importedLayers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specifiers.map((s) => path.relative(ROOT, path.resolve(path.dirname(file), s)).split(path.sep)[0]!);
}

describe('architecture', () => {
  for (const [layer, forbidden] of Object.entries(FORBIDDEN)) {
    it(`${layer}/ imports nothing from ${forbidden.join(', ')}`, () => {
      const wrong = sources(path.join(ROOT, layer)).flatMap((file) =>
        importedLayers(file)
          .filter((l) => forbidden.includes(l))
          .map((l) => `${path.relative(ROOT, file)} imports ${l}/`)
          .filter((line) => !ALLOWED.has(line)),
      );
      expect(wrong).to.deep.equal([]);
    });
  }

  it('finds a wrong-way import when there is one (the check can fail)', () => {
    expect(importedLayers(path.join(ROOT, 'infra', 'stack.ts'))).to.include('functions');
  });

  it('gives every catalog function its handler, logic, infrastructure module and test where docs/architecture.md says', () => {
    const expected = (name: string) => [`functions/${name}/index.ts`, `functions/${name}/logic.ts`, `infra/functions/${name}.ts`, `tests/functions/${name}.test.ts`];
    const missing = FUNCTIONS.flatMap((f) => expected(f.name).filter((p) => !existsSync(path.join(ROOT, p))));
    expect(missing).to.deep.equal([]);
    const table = readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
    for (const f of FUNCTIONS) {
      const row = table.split('\n').find((line) => line.startsWith(`| \`${f.name}\` |`));
      expect(row, `the row of ${f.name} in docs/architecture.md`).to.be.a('string');
      for (const file of expected(f.name).slice(1)) expect(row, f.name).to.include(`\`${file}\``);
    }
  });

  it('keeps each function folder to its handler, its logic and helpers the logic imports', () => {
    // A file nobody imports is dead or misplaced; the handler imports logic.ts, logic.ts the rest.
    const strays = FUNCTIONS.flatMap((f) => {
      const dir = path.join(ROOT, 'functions', f.name);
      const imported = new Set(readdirSync(dir).flatMap((file) => [...readFileSync(path.join(dir, file), 'utf8').matchAll(/from '\.\/([^']+)'/g)].map((m) => m[1])));
      return readdirSync(dir).filter((file) => file !== 'index.ts' && !imported.has(file)).map((file) => `${f.name}/${file}`);
    });
    expect(strays).to.deep.equal([]);
  });
});
