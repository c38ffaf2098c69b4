// The deploy service's connection to the claudable extension: one pg.Pool per admin URL,
// parameterized calls, retries for what may be retried, and messages without secrets.
import pg from 'pg';

import {
  ClaudableError, InternalError, InvalidInputError, OutcomeUnknownError, UnavailableError, errorForSqlstate,
} from './errors';
import { MASK } from './info';

/** What this package needs of a pool; a pg.Pool is one. */
export interface PoolLike {
  connect(): Promise<{
    query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>;
    release(destroy?: boolean | Error): void;
    on?(event: 'error', listener: (error: Error) => void): unknown;
    removeListener?(event: 'error', listener: (error: Error) => void): unknown;
  }>;
}

export interface ClaudableOptions {
  /** Admin connection URL; default: the DB_ADMIN_URL environment variable. */
  adminUrl?: string;
  /** A pool of your own, such as a pg.Pool (then adminUrl and DB_ADMIN_URL are not used, and you close it). */
  pool?: PoolLike;
  /** How long provisioning retries transient faults, in ms (default 10,000). */
  retryBudgetMs?: number;
  /** Called before each retry, with the masked error (for logs). */
  onRetry?: (attempt: number, error: ClaudableError) => void;
}

const pools = new Map<string, pg.Pool>();

/** Closes every pool this package opened (one per admin URL). Call it on shutdown. */
export async function closeClaudablePools(): Promise<void> {
  const open = [...pools.values()];
  pools.clear();
  await Promise.all(open.map((pool) => pool.end()));
}

interface Target {
  pool: PoolLike;
  secrets: string[];  // what must never appear in a message
}

function target(options: ClaudableOptions): Target {
  if (options.pool) return { pool: options.pool, secrets: [] };
  const adminUrl = options.adminUrl ?? process.env.DB_ADMIN_URL;
  if (!adminUrl)
    throw new InvalidInputError('22023', 'no admin connection: pass options.adminUrl or options.pool, or set DB_ADMIN_URL');
  const secrets = secretsOf(adminUrl);
  let pool = pools.get(adminUrl);
  if (!pool) {
    try {
      decodeURIComponent(new URL(adminUrl).password);
    } catch {
      throw new InvalidInputError('22023', 'the admin URL is malformed (it is not shown: it may hold the password)');
    }
    pool = new pg.Pool({ connectionString: adminUrl, max: 10, connectionTimeoutMillis: 5000,
                         application_name: 'claudable-client (node)' });
    pool.on('error', () => { /* an idle client died; the next call opens another */ });
    pools.set(adminUrl, pool);
  }
  return { pool, secrets };
}

function secretsOf(adminUrl: string): string[] {
  const found = [adminUrl];
  const raw = /^[a-z]+:\/\/[^:/@]*:([^@]*)@/i.exec(adminUrl)?.[1];
  if (raw) {
    found.push(raw);
    try { found.push(decodeURIComponent(raw)); } catch { /* malformed: the raw form is enough */ }
  }
  return found.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

function scrub(message: string, secrets: string[]): string {
  let text = message;
  for (const secret of secrets) text = text.split(secret).join(MASK);
  return text;
}

interface PgError extends Error { code?: string; hint?: string }

/**
 * A failure as a ClaudableError. A server answer becomes its kind; a broken connection, or a
 * session the server ended (57P01 admin_shutdown: a restart or pg_terminate_backend; 57P02
 * crash_shutdown), is `unavailable` when the call was not sent, else `outcome_unknown` for a
 * call that is not idempotent (the server, or its provisioning worker, may have committed it)
 * and `unavailable` for one that is. Exported for the package's tests, not from its index.
 */
export function classify(error: unknown, secrets: string[], sent: boolean, idempotent: boolean,
                         fn: string): ClaudableError {
  if (error instanceof ClaudableError) return error;
  const e = error as PgError;
  const message = scrub(e?.message ?? String(error), secrets) + (e?.hint ? ` (hint: ${scrub(e.hint, secrets)})` : '');
  const code = typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  // A terminated session (57P01, 57P02) is a lost connection like class 08, not an answer.
  const lost = code === undefined || code.startsWith('08') || code === '57P01' || code === '57P02';
  if (!lost) return errorForSqlstate(code, message);
  if (!sent) return new UnavailableError(code ?? '08001', `cannot connect to the server: ${message}`);
  if (!idempotent)
    return new OutcomeUnknownError('08006', `the connection was lost after ${fn} was sent: it may or may not have ` +
                                              `taken effect, so it was not sent again (${message})`);
  return new UnavailableError('08006', `the connection to the server was lost: ${message}`);
}

/**
 * Whether `failure` may be sent again: a transient fault of an idempotent call, of a call that
 * was never sent, or an answer that says nothing ran (53000, 57P03). Exported for the tests.
 */
export function mayRetry(failure: ClaudableError, sent: boolean, idempotent: boolean): boolean {
  return failure.kind === 'unavailable' &&
    (idempotent || !sent || failure.sqlstate === '53000' || failure.sqlstate === '57P03');
}

// Two turns of the event loop: a poll phase runs between them whatever phase this one is in
// (a setImmediate queued during the poll phase runs before the next poll), so whatever was
// already waiting on the client's socket has been read and parsed when it resolves.
async function readWhatWaits(): Promise<void> {
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
}

// How many kept connections in a row may be found ended before the call is sent and be
// replaced at once (no pause, no retry reported); a pool holds at most 10.
const MAX_REPLACED = 16;

/**
 * Runs `sql` on a connection of the pool; idempotent calls retry transient faults, the
 * others only faults that prove the call was not sent.
 *
 * A pool keeps its connections between calls. One whose session the server ended while it
 * sat idle (a restart: 57P01; a crash of another backend: 57P02; pg_terminate_backend) has
 * the server's FATAL and the end of the connection waiting on its socket. Before the query
 * is written, those are read (readWhatWaits): pg reports them as an 'error' of the idle
 * client, and such a client is replaced by another before anything is written on it, so
 * the call provably never reached the server through it. A deprovision or rotation sent
 * on the new connection then returns its own result. A session that ends after that look,
 * while the query is on its way or running, makes the outcome unknown for those two calls.
 */
export async function call<T>(options: ClaudableOptions, fn: string, sql: string, params: unknown[],
                              idempotent: boolean, read: (rows: any[]) => T): Promise<T> {
  const { pool, secrets } = target(options);
  const budget = options.retryBudgetMs ?? 10_000;
  const started = Date.now();
  let backoff = 100;
  let replaced = 0;
  for (let attempt = 1; ; attempt++) {
    let sent = false;
    let endedBeforeSending = false;
    try {
      const client = await pool.connect();
      // Every 'error' the client emits from here on lands here (and a late one after it is
      // destroyed is ignored). One before the query is written means the session had ended;
      // one under a running query is reported by the query's own rejection.
      let ended: unknown;
      const listener = (error: Error) => { ended ??= error; };
      client.on?.('error', listener);
      let rows: any[];
      try {
        if (client.on) await readWhatWaits();
        if (ended !== undefined) {
          endedBeforeSending = true;
          throw ended;
        }
        sent = true;
        rows = (await client.query(sql, params)).rows;
      } catch (error) {
        client.release(true);  // a connection that failed is not reused
        throw error;
      }
      client.removeListener?.('error', listener);
      client.release();
      return read(rows);
    } catch (error) {
      const failure = classify(error, secrets, sent, idempotent, fn);
      if (endedBeforeSending && replaced < MAX_REPLACED) {
        replaced++;
        attempt--;
        continue;  // nothing was sent: take another connection at once
      }
      replaced = 0;
      const pause = backoff * (0.5 + Math.random() / 2);
      if (!mayRetry(failure, sent, idempotent) || Date.now() - started + pause > budget) throw failure;
      options.onRetry?.(attempt, failure);
      await new Promise((resolve) => setTimeout(resolve, pause));
      backoff = Math.min(backoff * 2, 2000);
    }
  }
}

export function internal(message: string): InternalError {
  return new InternalError('XX000', message);
}
