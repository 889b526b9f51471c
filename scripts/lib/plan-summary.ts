/**
 * Turns Terraform's machine-readable plan (`terraform show -json <planfile>`) into the markdown a
 * reviewer reads in the pull request: counts, a resource table with replacements and destroys called
 * out first, and the full plan folded away.
 *
 * Pure: no file or network access, so the CLI, the workflows and the tests all render the same text.
 */

/** The plan actions Terraform reports in `resource_changes[].change.actions`. */
export type PlanAction = 'no-op' | 'create' | 'read' | 'update' | 'delete' | 'forget';

/** The part of a `resource_changes[]` entry the summary reads (Terraform's JSON output format). */
export interface ResourceChange {
  address: string;
  previous_address?: string;
  module_address?: string;
  mode: 'managed' | 'data';
  type: string;
  name: string;
  index?: unknown;
  deposed?: string;
  provider_name?: string;
  action_reason?: string;
  change: {
    actions: PlanAction[];
    before: unknown;
    after: unknown;
    after_unknown?: unknown;
    before_sensitive?: unknown;
    after_sensitive?: unknown;
    replace_paths?: (string | number)[][];
    importing?: { id?: string; identity?: unknown };
  };
}

/** An entry of `output_changes`. */
export interface OutputChange {
  actions: PlanAction[];
  before?: unknown;
  after?: unknown;
  after_unknown?: boolean;
  before_sensitive?: boolean;
  after_sensitive?: boolean;
}

/** The plan JSON fields the summary reads. Unknown fields are ignored, so newer format versions still render. */
export interface PlanJson {
  format_version: string;
  terraform_version?: string;
  resource_changes?: ResourceChange[];
  resource_drift?: ResourceChange[];
  output_changes?: Record<string, OutputChange>;
  errored?: boolean;
  applyable?: boolean;
  complete?: boolean;
}

/** What the summary calls each change; `replace` covers both orders of delete and create. */
export type SummaryAction = 'create' | 'update' | 'replace' | 'delete' | 'forget' | 'import' | 'move' | 'read';

/** One row of the resource table. */
export interface SummaryRow {
  address: string;
  type: string;
  action: SummaryAction;
  /** For replacements: true when Terraform creates the new object before destroying the old one. */
  createBeforeDestroy?: boolean;
  /** Attribute paths that force the replacement, as Terraform reports them. */
  replacePaths?: string[];
  /** Terraform's reason code, when it gives one (`replace_because_cannot_update`, `delete_because_no_resource_config`, ...). */
  reason?: string;
  previousAddress?: string;
}

/** Counts in Terraform's own sense: a replacement adds one and destroys one. */
export interface PlanCounts {
  add: number;
  change: number;
  destroy: number;
  replace: number;
  import: number;
  move: number;
  forget: number;
}

/** Hidden marker that identifies the sticky pull-request comment. */
export const COMMENT_MARKER_PREFIX = 'cognito-triggers-plan';

/** The hidden HTML comment the workflow searches for, one per environment. */
export function commentMarker(environment: string): string {
  return `<!-- ${COMMENT_MARKER_PREFIX}:${environment} -->`;
}

/** GitHub refuses comments over 65,536 characters; stay clear of it. */
export const MAX_COMMENT_CHARS = 60_000;

const SUPPORTED_FORMAT = /^1\./;

/** Throws with a clear message when the input is not Terraform plan JSON this summary understands. */
export function assertPlanJson(value: unknown): asserts value is PlanJson {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('plan JSON must be an object (the output of `terraform show -json <planfile>`)');
  }
  const v = value as Record<string, unknown>;
  if (typeof v.format_version !== 'string') {
    throw new Error('plan JSON has no format_version: pass the output of `terraform show -json <planfile>`, not the plan log');
  }
  if (!SUPPORTED_FORMAT.test(v.format_version)) {
    throw new Error(`plan JSON format_version ${v.format_version} is not supported (expected 1.x)`);
  }
  if (v.resource_changes !== undefined && !Array.isArray(v.resource_changes)) {
    throw new Error('plan JSON resource_changes must be an array');
  }
}

/** Classifies one resource change, or returns undefined when nothing happens to it. */
export function classify(rc: ResourceChange): SummaryRow | undefined {
  const actions = rc.change.actions;
  const key = actions.join(',');
  const base = { address: rc.address, type: rc.type } as const;
  const extra = {
    ...(rc.action_reason ? { reason: rc.action_reason } : {}),
    ...(rc.previous_address && rc.previous_address !== rc.address ? { previousAddress: rc.previous_address } : {}),
  };
  switch (key) {
    case 'create':
      return { ...base, action: 'create', ...extra };
    case 'update':
      return { ...base, action: 'update', ...extra };
    case 'delete':
      return { ...base, action: 'delete', ...extra };
    case 'delete,create':
    case 'create,delete': {
      const paths = (rc.change.replace_paths ?? []).map((p) => p.map(String).join('.'));
      return {
        ...base,
        action: 'replace',
        createBeforeDestroy: key === 'create,delete',
        ...(paths.length ? { replacePaths: paths } : {}),
        ...extra,
      };
    }
    case 'forget':
      return { ...base, action: 'forget', ...extra };
    case 'read':
      // A data source read at apply time is noise for a reviewer unless it is a managed resource.
      return rc.mode === 'data' ? undefined : { ...base, action: 'read', ...extra };
    case 'no-op':
      if (rc.change.importing) return { ...base, action: 'import', ...extra };
      if (extra.previousAddress) return { ...base, action: 'move', ...extra };
      return undefined;
    default:
      throw new Error(`${rc.address}: unknown plan actions ${JSON.stringify(actions)}`);
  }
}

/** Rows for every managed resource that changes, most dangerous first, then by address. */
export function summaryRows(plan: PlanJson): SummaryRow[] {
  const rows = (plan.resource_changes ?? [])
    .filter((rc) => rc.mode === 'managed' && !rc.deposed)
    .map(classify)
    .filter((r): r is SummaryRow => r !== undefined);
  // Deposed objects (left over from a failed create-before-destroy) are always deleted; list them too.
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode === 'managed' && rc.deposed && rc.change.actions.includes('delete')) {
      rows.push({ address: `${rc.address} (deposed ${rc.deposed})`, type: rc.type, action: 'delete' });
    }
  }
  return rows.sort((a, b) => RANK[a.action] - RANK[b.action] || a.address.localeCompare(b.address));
}

const RANK: Record<SummaryAction, number> = { replace: 0, delete: 1, forget: 2, update: 3, move: 4, import: 5, create: 6, read: 7 };

/** Add/change/destroy counts as Terraform prints them in "Plan: N to add, N to change, N to destroy." */
export function countActions(rows: readonly SummaryRow[]): PlanCounts {
  const c: PlanCounts = { add: 0, change: 0, destroy: 0, replace: 0, import: 0, move: 0, forget: 0 };
  for (const r of rows) {
    if (r.action === 'create') c.add++;
    else if (r.action === 'update') c.change++;
    else if (r.action === 'delete') c.destroy++;
    else if (r.action === 'replace') {
      c.replace++;
      c.add++;
      c.destroy++;
    } else if (r.action === 'import') c.import++;
    else if (r.action === 'move') c.move++;
    else if (r.action === 'forget') c.forget++;
  }
  return c;
}

/** One line: `3 to add, 1 to change, 2 to destroy` plus replace/import/move/forget counts when there are any. */
export function countsLine(c: PlanCounts): string {
  const parts = [`${c.add} to add`, `${c.change} to change`, `${c.destroy} to destroy`];
  const more = [
    c.replace ? `${c.replace} to replace` : '',
    c.import ? `${c.import} to import` : '',
    c.move ? `${c.move} to move` : '',
    c.forget ? `${c.forget} to forget` : '',
  ].filter(Boolean);
  return parts.join(', ') + (more.length ? ` (${more.join(', ')})` : '');
}

const ICON: Record<SummaryAction, string> = {
  replace: '⚠️',
  delete: '🗑️',
  forget: '➖',
  update: '🔄',
  move: '➡️',
  import: '📥',
  create: '➕',
  read: '📖',
};

function actionCell(r: SummaryRow): string {
  switch (r.action) {
    case 'replace': {
      const order = r.createBeforeDestroy ? 'create before destroy' : 'destroy, then create';
      const forced = r.replacePaths?.length ? `; forced by ${r.replacePaths.map(code).join(', ')}` : '';
      return `**⚠ replace** (${order}${forced})`;
    }
    case 'delete':
      return `**destroy**${r.reason ? ` (${reasonText(r.reason)})` : ''}`;
    case 'forget':
      return '**forget** (removed from state, left running)';
    case 'update':
      return 'update in place';
    case 'move':
      return `move from ${code(r.previousAddress ?? '')}`;
    default:
      return r.action;
  }
}

const REASONS: Record<string, string> = {
  delete_because_no_resource_config: 'no longer in the configuration',
  delete_because_no_module: 'its module is gone',
  delete_because_wrong_repetition: 'count/for_each changed',
  delete_because_count_index: 'count index removed',
  delete_because_each_key: 'for_each key removed',
  delete_because_no_move_target: 'move target missing',
};

function reasonText(reason: string): string {
  return REASONS[reason] ?? reason.replaceAll('_', ' ');
}

/** Inline code that survives any content: pipes cannot end a table cell and backticks cannot end the span. */
function code(text: string): string {
  return '`' + text.replaceAll('`', "'").replaceAll('|', '\\|') + '`';
}

/** A fence longer than any run of backticks in the text, so plan content cannot close it. */
function fence(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}

/**
 * Moves Terraform's indented change markers to column 0 so GitHub's `diff` highlighting colours them:
 * `+` green, `-` red, and `~`, `-/+`, `+/-` as `!` (changed).
 */
export function diffHighlight(planText: string): string {
  return planText
    .split('\n')
    .map((line) => {
      const m = /^(\s*)(-\/\+|\+\/-|[+~-])( .*|)$/.exec(line);
      if (!m) return line;
      const marker = m[2] === '+' || m[2] === '-' ? m[2] : '!';
      return `${marker}${m[1]}${m[3]}`;
    })
    .join('\n');
}

const UNKNOWN = '(known after apply)';
const SENSITIVE = '(sensitive value)';

function render(value: unknown, unknown: unknown, sensitive: unknown): string {
  if (sensitive === true) return SENSITIVE;
  if (unknown === true) return UNKNOWN;
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value);
  // Nested values: show the known parts, masking sensitive leaves and marking unknown ones.
  const walk = (v: unknown, u: unknown, s: unknown): unknown => {
    if (s === true) return SENSITIVE;
    if (u === true) return UNKNOWN;
    if (Array.isArray(v)) return v.map((x, i) => walk(x, pick(u, i), pick(s, i)));
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, pick(u, k), pick(s, k))]));
    }
    return v;
  };
  return JSON.stringify(walk(value, unknown, sensitive));
}

function pick(node: unknown, key: string | number): unknown {
  return node && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
}

function attrs(obj: unknown): Record<string, unknown> {
  return obj && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>) : {};
}

/**
 * A readable per-resource listing built from the JSON alone, for when `terraform show` text is not at hand
 * (for example `make plan-summary` on a saved plan JSON). Sensitive values are masked, unknown ones marked.
 */
export function renderPlanText(plan: PlanJson): string {
  const out: string[] = [];
  const changes = (plan.resource_changes ?? []).filter((rc) => rc.mode === 'managed');
  const byAddress = new Map(changes.map((rc) => [rc.address, rc] as const));
  for (const row of summaryRows(plan)) {
    const rc = byAddress.get(row.address);
    if (!rc) {
      out.push(`- ${row.address} will be destroyed`, '');
      continue;
    }
    const { before, after, after_unknown: au, before_sensitive: bs, after_sensitive: as } = rc.change;
    const verb: Record<SummaryAction, string> = {
      create: 'will be created',
      update: 'will be updated in-place',
      replace: 'must be replaced',
      delete: 'will be destroyed',
      forget: 'will be removed from state',
      import: 'will be imported',
      move: `has moved from ${row.previousAddress}`,
      read: 'will be read during apply',
    };
    const sym = { create: '+', update: '~', replace: rc.change.actions[0] === 'create' ? '+/-' : '-/+', delete: '-', forget: '.', import: '<=', move: '~', read: '<=' }[row.action];
    out.push(`  # ${rc.address} ${verb[row.action]}`, `  ${sym} resource "${rc.type}" "${rc.name}" {`);
    const b = attrs(before);
    const a = attrs(after);
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a), ...Object.keys(attrs(au))])].sort();
    const forcing = new Set((rc.change.replace_paths ?? []).map((p) => String(p[0])));
    for (const k of keys) {
      const bv = render(b[k], undefined, pick(bs, k));
      const av = render(a[k], pick(au, k), pick(as, k));
      const note = forcing.has(k) ? ' # forces replacement' : '';
      if (row.action === 'create') {
        if (a[k] === null && pick(au, k) !== true) continue;
        out.push(`      + ${k} = ${av}`);
      } else if (row.action === 'delete') {
        if (b[k] === null) continue;
        out.push(`      - ${k} = ${bv}`);
      } else if (bv !== av) {
        out.push(`      ~ ${k} = ${bv} -> ${av}${note}`);
      }
    }
    out.push('    }', '');
  }
  return out.join('\n').trimEnd();
}

/** Options of `summarizePlan`. */
export interface SummaryOptions {
  /** Environment whose plan this is; names the heading and the comment marker. */
  environment?: string;
  /** `terraform show -no-color <planfile>` output; without it the fold holds `renderPlanText`. */
  planText?: string;
  /** Link to the workflow run, shown under the heading. */
  runUrl?: string;
  /** Upper bound of the whole comment; the folded plan is cut to fit. */
  maxChars?: number;
}

/** Renders the pull-request comment for a plan. */
export function summarizePlan(planJson: unknown, options: SummaryOptions = {}): string {
  assertPlanJson(planJson);
  const plan = planJson;
  const env = options.environment ?? 'dev';
  const rows = summaryRows(plan);
  const counts = countActions(rows);
  const head: string[] = [commentMarker(env), `### Terraform plan for \`${env}\``, ''];
  if (plan.errored) head.push('> [!CAUTION]', '> The plan **errored**; the list below may be incomplete.', '');
  if (rows.length === 0) {
    head.push('**No changes.** The infrastructure matches the configuration.', '');
  } else {
    head.push(`**Plan: ${countsLine(counts)}.**`, '');
  }
  const replaced = rows.filter((r) => r.action === 'replace');
  const destroyed = rows.filter((r) => r.action === 'delete');
  if (replaced.length) {
    head.push(
      '> [!WARNING]',
      `> **${replaced.length} resource${replaced.length > 1 ? 's' : ''} will be replaced** (destroyed and re-created, with new ids; data in them is lost):`,
      ...replaced.map((r) => `> - ${code(r.address)}${r.replacePaths?.length ? ` because of ${r.replacePaths.map(code).join(', ')}` : ''}`),
      '',
    );
  }
  if (destroyed.length) {
    head.push(
      '> [!CAUTION]',
      `> **${destroyed.length} resource${destroyed.length > 1 ? 's' : ''} will be destroyed:**`,
      ...destroyed.map((r) => `> - ${code(r.address)}`),
      '',
    );
  }
  if (rows.length) {
    head.push('| | Resource | Type | Action |', '|---|---|---|---|');
    for (const r of rows) head.push(`| ${ICON[r.action]} | ${code(r.address)} | ${code(r.type)} | ${actionCell(r)} |`);
    head.push('');
  }
  const outputs = Object.entries(plan.output_changes ?? {}).filter(([, o]) => !o.actions.includes('no-op'));
  if (outputs.length) {
    head.push(`Outputs changing: ${outputs.map(([name, o]) => `${code(name)} (${o.actions.join('/')})`).join(', ')}.`, '');
  }
  const drift = (plan.resource_drift ?? []).filter((d) => d.mode === 'managed');
  if (drift.length) {
    head.push(`Changed outside Terraform since the last apply: ${drift.map((d) => code(d.address)).join(', ')}.`, '');
  }
  if (options.runUrl) head.push(`[Workflow run](${options.runUrl}) · Terraform ${plan.terraform_version ?? ''}`.trimEnd(), '');

  const body = diffHighlight(options.planText !== undefined ? options.planText.trimEnd() : renderPlanText(plan));
  return head.join('\n') + '\n' + fold('Full plan', body, (options.maxChars ?? MAX_COMMENT_CHARS) - head.join('\n').length, 'diff');
}

function fold(title: string, text: string, budget: number, language: string): string {
  const wrapperCost = 200;
  let content = text || '(no resource changes)';
  if (content.length > budget - wrapperCost) {
    const keep = Math.max(0, budget - wrapperCost - 120);
    content = `${content.slice(0, keep)}\n\n... cut: the plan is ${text.length} characters, more than a comment holds. The rest is in the workflow log and the plan artifact (locally: terraform show tfplan).`;
  }
  const f = fence(content);
  return `<details><summary>${title}</summary>\n\n${f}${language}\n${content}\n${f}\n\n</details>\n`;
}

/** The comment for a plan that failed: the error in a fold, and a note that the check fails. */
export function summarizeFailure(log: string, options: Pick<SummaryOptions, 'environment' | 'runUrl' | 'maxChars'> = {}): string {
  const env = options.environment ?? 'dev';
  const head = [
    commentMarker(env),
    `### Terraform plan for \`${env}\``,
    '',
    '> [!CAUTION]',
    '> **The plan failed.** Nothing can be reviewed until it succeeds; this check fails.',
    '',
    ...(options.runUrl ? [`[Workflow run](${options.runUrl})`, ''] : []),
  ].join('\n');
  const tail = log.trimEnd().split('\n').slice(-200).join('\n');
  return head + fold('Error output (last lines)', tail, (options.maxChars ?? MAX_COMMENT_CHARS) - head.length, 'text');
}
