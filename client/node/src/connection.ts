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

// A server answer becomes its kind; a broken connection becomes unavailable (not sent)
// or outcome_unknown (sent, for calls that are not idempotent).
function classify(error: unknown, secrets: string[], sent: boolean, idempotent: boolean, fn: string): ClaudableError {
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

/** Runs `sql` on a connection of its own; idempotent calls retry transient faults. */
export async function call<T>(options: ClaudableOptions, fn: string, sql: string, params: unknown[],
                              idempotent: boolean, read: (rows: any[]) => T): Promise<T> {
  const { pool, secrets } = target(options);
  const budget = options.retryBudgetMs ?? 10_000;
  const started = Date.now();
  let backoff = 100;
  for (let attempt = 1; ; attempt++) {
    let sent = false;
    try {
      const client = await pool.connect();
      // A connection that breaks under a running query also emits 'error' on the client;
      // the query's own rejection is what reports it.
      const ignore = () => {};
      client.on?.('error', ignore);
      try {
        sent = true;
        const result = await client.query(sql, params);
        client.removeListener?.('error', ignore);
        client.release();
        return read(result.rows);
      } catch (error) {
        client.release(true);  // a connection that failed is not reused; its late 'error' stays ignored
        throw error;
      }
    } catch (error) {
      const failure = classify(error, secrets, sent, idempotent, fn);
      const retryable = failure.kind === 'unavailable' && (idempotent || !sent ||
                                                           failure.sqlstate === '53000' || failure.sqlstate === '57P03');
      const pause = backoff * (0.5 + Math.random() / 2);
      if (!retryable || Date.now() - started + pause > budget) throw failure;
      options.onRetry?.(attempt, failure);
      await new Promise((resolve) => setTimeout(resolve, pause));
      backoff = Math.min(backoff * 2, 2000);
    }
  }
}

export function internal(message: string): InternalError {
  return new InternalError('XX000', message);
}
