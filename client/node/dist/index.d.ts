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
/** A snapshot's id: 'snap-' and 12 lowercase hex characters. */
export type SnapshotId = `snap-${string}`;
/** A row of claudable_snapshot / claudable_snapshots. No secret. */
export interface ProjectSnapshot {
    snapshotId: SnapshotId;
    projectId: string;
    /** null when none was given; a restore's is 'before restore of <snapshotId>'. */
    label: string | null;
    sizeBytes: number | null;
    createdAt: Date;
}
export interface SnapshotOptions extends ClaudableOptions {
    /** At most 200 characters, no control characters; none by default. */
    label?: string | null;
}
/** What a branch starts from: the project as it is, an empty database, or one of its snapshots. */
export type BranchSource = 'current' | 'empty' | SnapshotId;
export interface BranchOptions extends ClaudableOptions {
    /** Default 'current'. */
    source?: BranchSource;
    /** When claudable_reconcile() may deprovision the branch; default: the server's claudable.branch_ttl. */
    expiresAt?: Date | null;
}
/**
 * Keeps a copy of the project's database as it is now. Not idempotent (a second call makes a
 * second snapshot): never re-sent once it reached the server, and a connection lost after
 * that is an OutcomeUnknownError (look with listProjectSnapshots before calling again).
 */
export declare function snapshotProjectDatabase(projectId: string, ownerId: string, options?: SnapshotOptions): Promise<ProjectSnapshot>;
/** The project's snapshots, newest first. */
export declare function listProjectSnapshots(projectId: string, ownerId: string, options?: ClaudableOptions): Promise<ProjectSnapshot[]>;
/**
 * Puts the project's database back as it was at `snapshotId`, with the same URL and password
 * (created: false); the state before is kept as a snapshot labelled 'before restore of
 * <snapshotId>'. Not idempotent (a second call makes a second such snapshot): never re-sent
 * once it reached the server.
 */
export declare function restoreProjectDatabase(projectId: string, ownerId: string, snapshotId: string, options?: ClaudableOptions): Promise<ProjectDatabaseInfo>;
/** Drops one snapshot: true, or false when the project has no such snapshot (so a retry is harmless). */
export declare function dropProjectSnapshot(projectId: string, ownerId: string, snapshotId: string, options?: ClaudableOptions): Promise<boolean>;
/**
 * The project `${projectId}~${branchId}`, a database and role of its own, made from
 * options.source on the first call and returned as it is on every later call (created: false,
 * whatever source it names), so it is retried like provisioning. A branch is a project:
 * provisionProjectDatabase, rotateProjectDatabasePassword, deprovisionProjectDatabase and
 * snapshotProjectDatabase take its project id with the parent's owner.
 */
export declare function branchProjectDatabase(projectId: string, ownerId: string, branchId: string, options?: BranchOptions): Promise<ProjectDatabaseInfo>;
export { maskUrl as maskDatabaseUrl };
