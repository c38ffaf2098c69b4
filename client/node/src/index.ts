// claudable-client: the deploy path of a Node / Next.js platform to the claudable
// PostgreSQL extension. Server-side only: the admin URL must never reach a browser.
import { ProjectDatabaseInfo, maskUrl } from './info';
import { ClaudableOptions, call, internal } from './connection';
import { InvalidInputError } from './errors';

if (typeof (globalThis as { window?: unknown }).window !== 'undefined' &&
    typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'undefined')
  throw new Error('claudable-client runs on the server only (Node >= 20): its admin URL must never reach a browser');

export * from './errors';
export { ProjectDatabaseInfo, MASK, maskUrl } from './info';
export type { ProjectDatabaseRow } from './info';
export { closeClaudablePools } from './connection';
export type { ClaudableOptions } from './connection';
export {
  writeEnvFile, envForApp, databaseVariables, mergeDatabaseUrl, mergeEnvVariables, refusedAppVariable,
  APP_BASE_VARIABLES, MAX_ENV_FILE_BYTES,
} from './env';
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

function projectInfo(rows: any[]): ProjectDatabaseInfo {
  const r = rows[0];
  if (!r) throw internal('claudable: the function returned no row');
  return new ProjectDatabaseInfo({
    projectId: r.project_id, ownerId: r.owner_id, databaseName: r.database_name, username: r.username,
    password: r.password, host: r.host, port: Number(r.port), databaseUrl: r.database_url, created: r.created,
    createdAt: new Date(r.created_at),
    // Absent before claudable 0.5.0; NULL while the server has no claudable.pooler_host.
    pooledDatabaseUrl: r.pooled_database_url ?? null,
  });
}

/**
 * Creates the project's role and database on the first call, returns them on every call.
 * Idempotent, so transient faults are retried with capped backoff within options.retryBudgetMs.
 */
export function provisionProjectDatabase(projectId: string, ownerId: string,
                                         options: ClaudableOptions = {}): Promise<ProjectDatabaseInfo> {
  return call(options, 'claudable_provision', 'SELECT * FROM claudable_provision($1, $2)', [projectId, ownerId],
              true, projectInfo);
}

/**
 * Drops the project's database and role. Never re-sent once it reached the server: a
 * connection lost after that is an OutcomeUnknownError.
 */
export function deprovisionProjectDatabase(projectId: string, ownerId: string,
                                           options: ClaudableOptions = {}): Promise<boolean> {
  return call(options, 'claudable_deprovision', 'SELECT claudable_deprovision($1, $2) AS removed',
              [projectId, ownerId], false, (rows) => rows[0]?.removed === true);
}

/** A new password for the project (same row as provisioning). Never re-sent once sent. */
export function rotateProjectDatabasePassword(projectId: string, ownerId: string,
                                              options: ClaudableOptions = {}): Promise<ProjectDatabaseInfo> {
  return call(options, 'claudable_rotate_password', 'SELECT * FROM claudable_rotate_password($1, $2)',
              [projectId, ownerId], false, projectInfo);
}

/** Every project: the rows of claudable.databases, through claudable_databases() (EXECUTE is all it needs). */
export function listProjectDatabases(options: ClaudableOptions = {}): Promise<ProjectDatabaseSummary[]> {
  return call(options, 'claudable_databases',
              'SELECT project_id, owner_id, database_name, username, status, size_bytes, connections, created_at,' +
                ' updated_at FROM claudable_databases() ORDER BY project_id', [], true,
              (rows) => rows.map((r) => ({
                projectId: r.project_id, ownerId: r.owner_id, databaseName: r.database_name, username: r.username,
                status: r.status, sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
                connections: Number(r.connections), createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at),
              })));
}

/** What claudable_check() reports; empty on a healthy server. */
export function checkProjectDatabases(options: ClaudableOptions = {}): Promise<Finding[]> {
  return call(options, 'claudable_check', 'SELECT severity, object, problem FROM claudable_check()', [], true,
              (rows) => rows.map((r) => ({ severity: r.severity, object: r.object, problem: r.problem })));
}

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

function snapshotRow(r: any): ProjectSnapshot {
  return {
    snapshotId: r.snapshot_id, projectId: r.project_id, label: r.label,
    sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes), createdAt: new Date(r.created_at),
  };
}

// An option of the wrong type is refused before anything is sent (node-postgres would send an
// invalid Date as text the server refuses with an error of another kind).
function checked<T>(name: string, value: T, valid: boolean, what: string): T {
  if (!valid) throw new InvalidInputError('22023', `${name} must be ${what}`);
  return value;
}

/**
 * Keeps a copy of the project's database as it is now. Not idempotent (a second call makes a
 * second snapshot): never re-sent once it reached the server, and a connection lost after
 * that is an OutcomeUnknownError (look with listProjectSnapshots before calling again).
 */
export async function snapshotProjectDatabase(projectId: string, ownerId: string,
                                              options: SnapshotOptions = {}): Promise<ProjectSnapshot> {
  const label = checked('label', options.label ?? null, options.label == null || typeof options.label === 'string',
                        'a string or null');
  return call(options, 'claudable_snapshot', 'SELECT * FROM claudable_snapshot($1, $2, $3)', [projectId, ownerId, label],
              false, (rows) => {
                if (!rows[0]) throw internal('claudable: the function returned no row');
                return snapshotRow(rows[0]);
              });
}

/** The project's snapshots, newest first. */
export function listProjectSnapshots(projectId: string, ownerId: string,
                                     options: ClaudableOptions = {}): Promise<ProjectSnapshot[]> {
  return call(options, 'claudable_snapshots', 'SELECT * FROM claudable_snapshots($1, $2)', [projectId, ownerId], true,
              (rows) => rows.map(snapshotRow));
}

/**
 * Puts the project's database back as it was at `snapshotId`, with the same URL and password
 * (created: false); the state before is kept as a snapshot labelled 'before restore of
 * <snapshotId>'. Not idempotent (a second call makes a second such snapshot): never re-sent
 * once it reached the server.
 */
export function restoreProjectDatabase(projectId: string, ownerId: string, snapshotId: string,
                                       options: ClaudableOptions = {}): Promise<ProjectDatabaseInfo> {
  return call(options, 'claudable_restore', 'SELECT * FROM claudable_restore($1, $2, $3)',
              [projectId, ownerId, snapshotId], false, projectInfo);
}

/** Drops one snapshot: true, or false when the project has no such snapshot (so a retry is harmless). */
export function dropProjectSnapshot(projectId: string, ownerId: string, snapshotId: string,
                                    options: ClaudableOptions = {}): Promise<boolean> {
  return call(options, 'claudable_drop_snapshot', 'SELECT claudable_drop_snapshot($1, $2, $3) AS dropped',
              [projectId, ownerId, snapshotId], true, (rows) => rows[0]?.dropped === true);
}

/**
 * The project `${projectId}~${branchId}`, a database and role of its own, made from
 * options.source on the first call and returned as it is on every later call (created: false,
 * whatever source it names), so it is retried like provisioning. A branch is a project:
 * provisionProjectDatabase, rotateProjectDatabasePassword, deprovisionProjectDatabase and
 * snapshotProjectDatabase take its project id with the parent's owner.
 */
export async function branchProjectDatabase(projectId: string, ownerId: string, branchId: string,
                                            options: BranchOptions = {}): Promise<ProjectDatabaseInfo> {
  const source = checked('source', options.source ?? 'current', options.source === undefined ||
                         typeof options.source === 'string', "'current', 'empty' or a snapshotId");
  const expiresAt = checked('expiresAt', options.expiresAt ?? null, options.expiresAt == null ||
                            (options.expiresAt instanceof Date && Number.isFinite(options.expiresAt.getTime())),
                            'a valid Date or null');
  return call(options, 'claudable_branch', 'SELECT * FROM claudable_branch($1, $2, $3, $4, $5)',
              [projectId, ownerId, branchId, source, expiresAt === null ? null : expiresAt.toISOString()], true,
              projectInfo);
}

export { maskUrl as maskDatabaseUrl };
