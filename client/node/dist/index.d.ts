import { ProjectDatabaseInfo, maskUrl } from './info';
import { ClaudableOptions } from './connection';
export * from './errors';
export { ProjectDatabaseInfo, MASK, maskUrl } from './info';
export type { ProjectDatabaseRow } from './info';
export { closeClaudablePools } from './connection';
export type { ClaudableOptions } from './connection';
export { writeEnvFile, envForApp, databaseVariables, mergeDatabaseUrl, mergeEnvVariables, refusedAppVariable, APP_BASE_VARIABLES, MAX_ENV_FILE_BYTES, } from './env';
export type { ProjectDatabaseUrls, DatabaseVariablesOptions, AppEnvOptions } from './env';
export { nodePostgresUrl } from './sslmode';
/** A row of claudable.databases. No secret. */
export interface ProjectDatabaseSummary {
    projectId: string;
    ownerId: string;
    databaseName: string;
    username: string;
    status: string;
    sizeBytes: number | null;
    connections: number;
    createdAt: Date;
    updatedAt: Date;
}
/** A row of claudable_check(). */
export interface Finding {
    severity: string;
    object: string;
    problem: string;
}
/**
 * Creates the project's role and database on the first call, returns them on every call.
 * Idempotent, so transient faults are retried with capped backoff within options.retryBudgetMs.
 */
export declare function provisionProjectDatabase(projectId: string, ownerId: string, options?: ClaudableOptions): Promise<ProjectDatabaseInfo>;
/**
 * Drops the project's database and role. Never re-sent once it reached the server: a
 * connection lost after that is an OutcomeUnknownError.
 */
export declare function deprovisionProjectDatabase(projectId: string, ownerId: string, options?: ClaudableOptions): Promise<boolean>;
/** A new password for the project (same row as provisioning). Never re-sent once sent. */
export declare function rotateProjectDatabasePassword(projectId: string, ownerId: string, options?: ClaudableOptions): Promise<ProjectDatabaseInfo>;
/** Every project: the rows of claudable.databases, through claudable_databases() (EXECUTE is all it needs). */
export declare function listProjectDatabases(options?: ClaudableOptions): Promise<ProjectDatabaseSummary[]>;
/** What claudable_check() reports; empty on a healthy server. */
export declare function checkProjectDatabases(options?: ClaudableOptions): Promise<Finding[]>;
export { maskUrl as maskDatabaseUrl };
