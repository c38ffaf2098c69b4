import { ClaudableError, InternalError } from './errors';
/** What this package needs of a pool; a pg.Pool is one. */
export interface PoolLike {
    connect(): Promise<{
        query(sql: string, params?: unknown[]): Promise<{
            rows: any[];
        }>;
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
/** Closes every pool this package opened (one per admin URL). Call it on shutdown. */
export declare function closeClaudablePools(): Promise<void>;
/**
 * A failure as a ClaudableError. A server answer becomes its kind; a broken connection, or a
 * session the server ended (57P01 admin_shutdown: a restart or pg_terminate_backend; 57P02
 * crash_shutdown), is `unavailable` when the call was not sent, else `outcome_unknown` for a
 * call that is not idempotent (the server, or its provisioning worker, may have committed it)
 * and `unavailable` for one that is. Exported for the package's tests, not from its index.
 */
export declare function classify(error: unknown, secrets: string[], sent: boolean, idempotent: boolean, fn: string): ClaudableError;
/**
 * Whether `failure` may be sent again: a transient fault of an idempotent call, of a call that
 * was never sent, or an answer that says nothing ran (53000, 57P03). Exported for the tests.
 */
export declare function mayRetry(failure: ClaudableError, sent: boolean, idempotent: boolean): boolean;
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
export declare function call<T>(options: ClaudableOptions, fn: string, sql: string, params: unknown[], idempotent: boolean, read: (rows: any[]) => T): Promise<T>;
export declare function internal(message: string): InternalError;
