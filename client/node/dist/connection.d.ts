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
/** Runs `sql` on a connection of its own; idempotent calls retry transient faults. */
export declare function call<T>(options: ClaudableOptions, fn: string, sql: string, params: unknown[], idempotent: boolean, read: (rows: any[]) => T): Promise<T>;
export declare function internal(message: string): InternalError;
