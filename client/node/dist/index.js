"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __exportStar = (this && this.__exportStar) || function(m, exports) {
    for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports, p)) __createBinding(exports, m, p);
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.maskDatabaseUrl = exports.nodePostgresUrl = exports.MAX_ENV_FILE_BYTES = exports.APP_BASE_VARIABLES = exports.refusedAppVariable = exports.mergeEnvVariables = exports.mergeDatabaseUrl = exports.databaseVariables = exports.envForApp = exports.writeEnvFile = exports.closeClaudablePools = exports.maskUrl = exports.MASK = exports.ProjectDatabaseInfo = void 0;
exports.provisionProjectDatabase = provisionProjectDatabase;
exports.deprovisionProjectDatabase = deprovisionProjectDatabase;
exports.rotateProjectDatabasePassword = rotateProjectDatabasePassword;
exports.listProjectDatabases = listProjectDatabases;
exports.checkProjectDatabases = checkProjectDatabases;
exports.snapshotProjectDatabase = snapshotProjectDatabase;
exports.listProjectSnapshots = listProjectSnapshots;
exports.restoreProjectDatabase = restoreProjectDatabase;
exports.dropProjectSnapshot = dropProjectSnapshot;
exports.branchProjectDatabase = branchProjectDatabase;
// claudable-client: the deploy path of a Node / Next.js platform to the claudable
// PostgreSQL extension. Server-side only: the admin URL must never reach a browser.
const info_1 = require("./info");
Object.defineProperty(exports, "maskDatabaseUrl", { enumerable: true, get: function () { return info_1.maskUrl; } });
const connection_1 = require("./connection");
const errors_1 = require("./errors");
if (typeof globalThis.window !== 'undefined' &&
    typeof globalThis.process?.versions?.node === 'undefined')
    throw new Error('claudable-client runs on the server only (Node >= 20): its admin URL must never reach a browser');
__exportStar(require("./errors"), exports);
var info_2 = require("./info");
Object.defineProperty(exports, "ProjectDatabaseInfo", { enumerable: true, get: function () { return info_2.ProjectDatabaseInfo; } });
Object.defineProperty(exports, "MASK", { enumerable: true, get: function () { return info_2.MASK; } });
Object.defineProperty(exports, "maskUrl", { enumerable: true, get: function () { return info_2.maskUrl; } });
var connection_2 = require("./connection");
Object.defineProperty(exports, "closeClaudablePools", { enumerable: true, get: function () { return connection_2.closeClaudablePools; } });
var env_1 = require("./env");
Object.defineProperty(exports, "writeEnvFile", { enumerable: true, get: function () { return env_1.writeEnvFile; } });
Object.defineProperty(exports, "envForApp", { enumerable: true, get: function () { return env_1.envForApp; } });
Object.defineProperty(exports, "databaseVariables", { enumerable: true, get: function () { return env_1.databaseVariables; } });
Object.defineProperty(exports, "mergeDatabaseUrl", { enumerable: true, get: function () { return env_1.mergeDatabaseUrl; } });
Object.defineProperty(exports, "mergeEnvVariables", { enumerable: true, get: function () { return env_1.mergeEnvVariables; } });
Object.defineProperty(exports, "refusedAppVariable", { enumerable: true, get: function () { return env_1.refusedAppVariable; } });
Object.defineProperty(exports, "APP_BASE_VARIABLES", { enumerable: true, get: function () { return env_1.APP_BASE_VARIABLES; } });
Object.defineProperty(exports, "MAX_ENV_FILE_BYTES", { enumerable: true, get: function () { return env_1.MAX_ENV_FILE_BYTES; } });
var sslmode_1 = require("./sslmode");
Object.defineProperty(exports, "nodePostgresUrl", { enumerable: true, get: function () { return sslmode_1.nodePostgresUrl; } });
function projectInfo(rows) {
    const r = rows[0];
    if (!r)
        throw (0, connection_1.internal)('claudable: the function returned no row');
    return new info_1.ProjectDatabaseInfo({
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
function provisionProjectDatabase(projectId, ownerId, options = {}) {
    return (0, connection_1.call)(options, 'claudable_provision', 'SELECT * FROM claudable_provision($1, $2)', [projectId, ownerId], true, projectInfo);
}
/**
 * Drops the project's database and role. Never re-sent once it reached the server: a
 * connection lost after that is an OutcomeUnknownError.
 */
function deprovisionProjectDatabase(projectId, ownerId, options = {}) {
    return (0, connection_1.call)(options, 'claudable_deprovision', 'SELECT claudable_deprovision($1, $2) AS removed', [projectId, ownerId], false, (rows) => rows[0]?.removed === true);
}
/** A new password for the project (same row as provisioning). Never re-sent once sent. */
function rotateProjectDatabasePassword(projectId, ownerId, options = {}) {
    return (0, connection_1.call)(options, 'claudable_rotate_password', 'SELECT * FROM claudable_rotate_password($1, $2)', [projectId, ownerId], false, projectInfo);
}
/** Every project: the rows of claudable.databases, through claudable_databases() (EXECUTE is all it needs). */
function listProjectDatabases(options = {}) {
    return (0, connection_1.call)(options, 'claudable_databases', 'SELECT project_id, owner_id, database_name, username, status, size_bytes, connections, created_at,' +
        ' updated_at FROM claudable_databases() ORDER BY project_id', [], true, (rows) => rows.map((r) => ({
        projectId: r.project_id, ownerId: r.owner_id, databaseName: r.database_name, username: r.username,
        status: r.status, sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
        connections: Number(r.connections), createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at),
    })));
}
/** What claudable_check() reports; empty on a healthy server. */
function checkProjectDatabases(options = {}) {
    return (0, connection_1.call)(options, 'claudable_check', 'SELECT severity, object, problem FROM claudable_check()', [], true, (rows) => rows.map((r) => ({ severity: r.severity, object: r.object, problem: r.problem })));
}
function snapshotRow(r) {
    return {
        snapshotId: r.snapshot_id, projectId: r.project_id, label: r.label,
        sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes), createdAt: new Date(r.created_at),
    };
}
// An option of the wrong type is refused before anything is sent (node-postgres would send an
// invalid Date as text the server refuses with an error of another kind).
function checked(name, value, valid, what) {
    if (!valid)
        throw new errors_1.InvalidInputError('22023', `${name} must be ${what}`);
    return value;
}
/**
 * Keeps a copy of the project's database as it is now. Not idempotent (a second call makes a
 * second snapshot): never re-sent once it reached the server, and a connection lost after
 * that is an OutcomeUnknownError (look with listProjectSnapshots before calling again).
 */
async function snapshotProjectDatabase(projectId, ownerId, options = {}) {
    const label = checked('label', options.label ?? null, options.label == null || typeof options.label === 'string', 'a string or null');
    return (0, connection_1.call)(options, 'claudable_snapshot', 'SELECT * FROM claudable_snapshot($1, $2, $3)', [projectId, ownerId, label], false, (rows) => {
        if (!rows[0])
            throw (0, connection_1.internal)('claudable: the function returned no row');
        return snapshotRow(rows[0]);
    });
}
/** The project's snapshots, newest first. */
function listProjectSnapshots(projectId, ownerId, options = {}) {
    return (0, connection_1.call)(options, 'claudable_snapshots', 'SELECT * FROM claudable_snapshots($1, $2)', [projectId, ownerId], true, (rows) => rows.map(snapshotRow));
}
/**
 * Puts the project's database back as it was at `snapshotId`, with the same URL and password
 * (created: false); the state before is kept as a snapshot labelled 'before restore of
 * <snapshotId>'. Not idempotent (a second call makes a second such snapshot): never re-sent
 * once it reached the server.
 */
function restoreProjectDatabase(projectId, ownerId, snapshotId, options = {}) {
    return (0, connection_1.call)(options, 'claudable_restore', 'SELECT * FROM claudable_restore($1, $2, $3)', [projectId, ownerId, snapshotId], false, projectInfo);
}
/** Drops one snapshot: true, or false when the project has no such snapshot (so a retry is harmless). */
function dropProjectSnapshot(projectId, ownerId, snapshotId, options = {}) {
    return (0, connection_1.call)(options, 'claudable_drop_snapshot', 'SELECT claudable_drop_snapshot($1, $2, $3) AS dropped', [projectId, ownerId, snapshotId], true, (rows) => rows[0]?.dropped === true);
}
/**
 * The project `${projectId}~${branchId}`, a database and role of its own, made from
 * options.source on the first call and returned as it is on every later call (created: false,
 * whatever source it names), so it is retried like provisioning. A branch is a project:
 * provisionProjectDatabase, rotateProjectDatabasePassword, deprovisionProjectDatabase and
 * snapshotProjectDatabase take its project id with the parent's owner.
 */
async function branchProjectDatabase(projectId, ownerId, branchId, options = {}) {
    const source = checked('source', options.source ?? 'current', options.source === undefined ||
        typeof options.source === 'string', "'current', 'empty' or a snapshotId");
    const expiresAt = checked('expiresAt', options.expiresAt ?? null, options.expiresAt == null ||
        (options.expiresAt instanceof Date && Number.isFinite(options.expiresAt.getTime())), 'a valid Date or null');
    return (0, connection_1.call)(options, 'claudable_branch', 'SELECT * FROM claudable_branch($1, $2, $3, $4, $5)', [projectId, ownerId, branchId, source, expiresAt === null ? null : expiresAt.toISOString()], true, projectInfo);
}
