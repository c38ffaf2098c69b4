// claudable-client: the deploy path of a Node / Next.js platform to the claudable
// PostgreSQL extension. Server-side only: the admin URL must never reach a browser.
import { ProjectDatabaseInfo, maskUrl } from './info';
import { ClaudableOptions, call, internal } from './connection';

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

export { maskUrl as maskDatabaseUrl };
