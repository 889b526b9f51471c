/**
 * The console page's script (bundled by the console server with esbuild). It polls `/api/state` every
 * second and redraws a section only when its data changed, so a code being selected or a message
 * being read is not swept away; relative times ("12 s ago", "in 9 min") tick in place. Every value is
 * written as text, never as HTML: messages carry user-supplied names.
 */
import type { ConsoleExecution, ConsoleLock, ConsoleMessage, ConsoleState, ConsoleUser } from '../state.ts';

const POLL_MS = 1000;

type Child = Node | string | null | undefined | false;

function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

const $ = (id: string) => document.getElementById(id)!;

function clock(iso: string): string {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return today ? time : `${d.toLocaleDateString()} ${time}`;
}

/** "12 s ago", "in 9 min 5 s". */
function relative(iso: string, now: number): string {
  const ms = new Date(iso).getTime() - now;
  const s = Math.round(Math.abs(ms) / 1000);
  const text = s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min${s % 60 && s < 600 ? ` ${s % 60} s` : ''}` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return ms > 0 ? `in ${text}` : `${text} ago`;
}

/** A time as the clock shows it, with a relative hint that ticks. */
function time(iso: string | undefined): HTMLElement {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'time', title: iso }, clock(iso), h('span', { class: 'sub', 'data-relative': iso }, relative(iso, Date.now())));
}

function badge(text: string, tone: '' | 'ok' | 'warn' | 'bad' | 'info' = ''): HTMLElement {
  return h('span', { class: `badge ${tone}`.trim() }, text);
}

function empty(text: string): HTMLElement {
  return h('p', { class: 'empty' }, text);
}

async function act(path: string, body: Record<string, string>, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } finally {
    await poll();
  }
}

function button(text: string, onClick: (b: HTMLButtonElement) => void): HTMLButtonElement {
  const b = h('button', { type: 'button' }, text) as HTMLButtonElement;
  b.addEventListener('click', () => onClick(b));
  return b;
}

// --------------------------------------------------------------------------------------------------
// Sections

const open = new Set<string>();
const seen = new Set<string>();
let firstDraw = true;

function messageCard(m: ConsoleMessage): HTMLElement {
  const details = h('details', {}, h('summary', {}, 'Full message'), h('pre', {}, m.text));
  if (open.has(m.id)) details.setAttribute('open', '');
  details.addEventListener('toggle', () => ((details as HTMLDetailsElement).open ? open.add(m.id) : open.delete(m.id)));
  const fresh = !firstDraw && !seen.has(m.id);
  seen.add(m.id);
  const copy = m.code
    ? button('Copy', (b) => {
        void navigator.clipboard?.writeText(m.code!.value).then(() => {
          b.textContent = 'Copied';
          setTimeout(() => (b.textContent = 'Copy'), 1500);
        });
      })
    : null;
  return h(
    'li',
    { class: `card message${fresh ? ' fresh' : ''}`, 'data-to': m.to, ...(m.code ? { 'data-code': m.code.value } : {}) },
    h('div', { class: 'card-head' }, h('span', { class: 'to' }, m.to), h('span', {}, badge(`${m.via} ${m.channel === 'sms' ? 'SMS' : 'email'}`, 'info'), ' ', time(m.at))),
    m.subject ? h('div', { class: 'subject' }, m.subject) : null,
    m.code ? h('div', { class: 'code-row' }, h('span', { class: 'code-label' }, m.code.label), h('span', { class: 'code-value' }, m.code.value), copy) : null,
    m.link ? h('div', { class: 'code-row' }, h('span', { class: 'code-label' }, 'Magic link'), h('a', { class: 'magic-link', href: m.link, target: '_blank', rel: 'noopener noreferrer' }, 'Open the sign-in link')) : null,
    details,
  );
}

const STATUS_TONE: Record<string, 'ok' | 'warn' | 'info' | 'bad'> = { CONFIRMED: 'ok', UNCONFIRMED: 'warn', FORCE_CHANGE_PASSWORD: 'info', RESET_REQUIRED: 'info', COMPROMISED: 'bad' };

function lockCell(lock: ConsoleLock | undefined): HTMLElement {
  if (!lock) return h('span', { class: 'muted' }, 'no attempts');
  const clear = button('Unlock', (b) => void act('api/clear-lock', { login: lock.login }, b));
  if (lock.lockedUntil) {
    return h('span', { class: 'lock' }, badge('Locked', 'bad'), ' ', h('span', { class: 'sub', 'data-relative': lock.lockedUntil }, relative(lock.lockedUntil, Date.now())), ' ', clear);
  }
  const tone = lock.attempts >= lock.maxAttempts ? 'bad' : lock.attempts > 0 ? 'warn' : '';
  return h('span', { class: 'lock' }, badge(`${lock.attempts} of ${lock.maxAttempts} attempts`, tone), lock.refused > 0 ? h('span', { class: 'sub' }, ` ${lock.refused} refused`) : null, ' ', lock.attempts > 0 ? clear : null);
}

function userRow(u: ConsoleUser): HTMLElement {
  const who = u.email ?? u.username;
  const details = [u.name, u.phoneNumber, u.pool === 'legacy' ? 'legacy pool (migrates on first sign-in)' : null, u.sub ? `sub ${u.sub}` : null].filter(Boolean).join(' · ');
  return h(
    'tr',
    { class: 'user', 'data-user': who },
    h('td', {}, h('div', { class: 'to' }, who), h('div', { class: 'sub' }, details)),
    h(
      'td',
      {},
      badge(u.status, STATUS_TONE[u.status] ?? ''),
      !u.enabled ? h('span', {}, ' ', badge('disabled', 'bad')) : null,
      u.emailVerified !== undefined ? h('div', { class: 'sub' }, u.emailVerified ? 'email verified' : 'email not verified') : null,
    ),
    h('td', {}, u.pool === 'legacy' ? h('span', { class: 'muted' }, '—') : lockCell(u.lock)),
    h('td', {}, time(u.createdAt)),
    h('td', {}, time(u.lastSignInAt), u.signIns ? h('span', { class: 'sub' }, ` ${u.signIns} sign-in${u.signIns === 1 ? '' : 's'}`) : null),
  );
}

const EXECUTION_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info'> = { RUNNING: 'info', SUCCEEDED: 'ok', FAILED: 'bad', TIMED_OUT: 'bad', ABORTED: 'warn' };

function executionRow(e: ConsoleExecution): HTMLElement {
  let now: Child;
  if (e.waiting) {
    const skip = button('Run now', (b) => void act('api/skip-wait', { executionArn: e.executionArn }, b));
    now = h(
      'span',
      {},
      `Waiting before ${e.waiting.next ?? 'the next step'} `,
      e.waiting.until ? h('span', { class: 'sub', 'data-relative': e.waiting.until }, relative(e.waiting.until, Date.now())) : h('span', { class: 'sub' }, '(until fast-forwarded)'),
      ' ',
      skip,
      e.userStatus === 'CONFIRMED' ? h('div', { class: 'sub' }, 'Confirmed since: the next step finds nothing to do.') : null,
    );
  } else if (e.status === 'RUNNING') {
    now = `Running ${e.states.at(-1) ?? ''}`;
  } else {
    now = h('span', {}, e.states.join(' → '), e.error ? h('div', { class: 'sub' }, `${e.error}${e.cause ? `: ${e.cause}` : ''}`) : null);
  }
  return h('tr', { class: 'execution', 'data-user': e.user }, h('td', {}, h('div', { class: 'to' }, e.user), h('div', { class: 'sub name', title: e.name }, e.name)), h('td', {}, badge(e.status, EXECUTION_TONE[e.status] ?? '')), h('td', {}, now), h('td', {}, time(e.startedAt)));
}

function duration(seconds: number): string {
  if (seconds % 3600 === 0 && seconds >= 3600) return `${seconds / 3600} h`;
  if (seconds % 60 === 0 && seconds >= 60) return `${seconds / 60} min`;
  return `${seconds} s`;
}

// --------------------------------------------------------------------------------------------------
// Drawing

const drawn: Record<string, string> = {};

/** Replaces a section's content only when its data changed. */
function redraw(key: string, data: unknown, draw: () => void): void {
  const text = JSON.stringify(data);
  if (drawn[key] === text) return;
  drawn[key] = text;
  draw();
}

function matches(filter: string, ...values: Array<string | undefined>): boolean {
  return filter === '' || values.some((v) => v?.toLowerCase().includes(filter));
}

function draw(state: ConsoleState): void {
  const filter = ($('filter') as HTMLInputElement).value.trim().toLowerCase();
  const { info } = state;
  redraw('info', info, () => {
    $('stack').textContent = `· ${info.stackName}`;
    $('pool').textContent = `User pool ${info.cognito.userPoolId} · app client ${info.cognito.clientId} · endpoint ${info.cognito.endpoint} · ${info.region} · ${info.deliveryMode}`;
    $('lock-policy').textContent = `A login locks after ${info.lockout.maxAttempts} attempts within ${duration(info.lockout.windowSeconds)}, for ${duration(info.lockout.lockSeconds)}.`;
    $('wait-policy').textContent = info.waits
      ? `An unconfirmed user is reminded ${duration(info.waits.reminderSeconds)} after signing up and deleted ${duration(info.waits.deletionSeconds)} after the reminder. "Run now" skips a wait.`
      : 'Waits last until fast-forwarded.';
  });

  const messages = state.messages.filter((m) => matches(filter, m.to, m.subject, m.text));
  redraw('messages', [filter, messages], () => {
    $('messages-count').textContent = `(${state.messages.length})`;
    $('message-list').replaceChildren(...(messages.length ? messages.map(messageCard) : [empty(filter ? 'No message matches the filter.' : 'No message yet. Sign up in your app and the code appears here.')]));
  });

  const users = state.users.filter((u) => matches(filter, u.email, u.username, u.phoneNumber, u.name));
  redraw('users', [filter, users, state.otherLogins], () => {
    $('users-count').textContent = `(${state.users.length})`;
    $('user-rows').replaceChildren(...(users.length ? users.map(userRow) : [h('tr', {}, h('td', { colspan: '5' }, empty(filter ? 'No user matches the filter.' : 'No user yet.')))]));
    const others = state.otherLogins.filter((l) => matches(filter, l.login));
    $('other-logins').replaceChildren(
      ...(others.length
        ? [h('h3', { class: 'small muted' }, 'Sign-in attempts for logins that are not users'), h('table', {}, h('tbody', {}, ...others.map((l) => h('tr', { class: 'other-login' }, h('td', {}, h('span', { class: 'mono' }, l.login)), h('td', {}, lockCell(l))))))]
        : []),
    );
  });

  const executions = state.executions.filter((e) => matches(filter, e.user, e.name));
  redraw('executions', [filter, executions], () => {
    $('workflows-count').textContent = `(${state.executions.length})`;
    $('execution-rows').replaceChildren(...(executions.length ? executions.map(executionRow) : [h('tr', {}, h('td', { colspan: '4' }, empty(filter ? 'No workflow matches the filter.' : 'No workflow yet: each sign-up starts one.')))]));
  });
  firstDraw = false;
}

function tick(): void {
  const now = Date.now();
  for (const el of document.querySelectorAll<HTMLElement>('[data-relative]')) el.textContent = relative(el.dataset.relative!, now);
}

let timer: ReturnType<typeof setTimeout> | undefined;
let lastState: ConsoleState | undefined;

async function poll(): Promise<void> {
  clearTimeout(timer);
  const live = $('live');
  try {
    const res = await fetch('api/state', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    lastState = (await res.json()) as ConsoleState;
    draw(lastState);
    live.textContent = `live · ${clock(lastState.generatedAt)}`;
    live.classList.remove('down');
  } catch {
    live.textContent = 'sandbox not reachable; retrying';
    live.classList.add('down');
  }
  tick();
  timer = setTimeout(() => void poll(), POLL_MS);
}

document.addEventListener('DOMContentLoaded', () => {
  $('filter').addEventListener('input', () => lastState && draw(lastState));
  void poll();
});
