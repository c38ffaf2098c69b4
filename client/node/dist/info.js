"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ProjectDatabaseInfo = exports.MASK = void 0;
exports.maskUrl = maskUrl;
// The row of claudable_provision, in camelCase. The password and the URL are real when read
// as properties, and masked wherever a human reads: console.log, util.inspect,
// JSON.stringify and String().
const node_util_1 = require("node:util");
exports.MASK = '********';
/** The URL with its password replaced by the mask. */
function maskUrl(url) {
    return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, `$1${exports.MASK}@`);
}
// The secrets live beside the object, not on it: nothing that walks its properties sees them.
const secrets = new WeakMap();
class ProjectDatabaseInfo {
    projectId;
    ownerId;
    databaseName;
    username;
    host;
    port;
    created;
    createdAt;
    constructor(row) {
        this.projectId = row.projectId;
        this.ownerId = row.ownerId;
        this.databaseName = row.databaseName;
        this.username = row.username;
        this.host = row.host;
        this.port = row.port;
        this.created = row.created;
        this.createdAt = row.createdAt;
        secrets.set(this, { password: row.password, databaseUrl: row.databaseUrl, pooledDatabaseUrl: row.pooledDatabaseUrl });
    }
    /** The real password. */
    get password() { return secrets.get(this).password; }
    /** The real DATABASE_URL. */
    get databaseUrl() { return secrets.get(this).databaseUrl; }
    /** The real pooled URL (PgBouncer, transaction pooling), or null when the server has no pooler set. */
    get pooledDatabaseUrl() { return secrets.get(this).pooledDatabaseUrl; }
    /** What humans and logs see: every field, the password and the URL's password masked. */
    toMasked() {
        return {
            projectId: this.projectId, ownerId: this.ownerId, databaseName: this.databaseName, username: this.username,
            password: exports.MASK, host: this.host, port: this.port, databaseUrl: maskUrl(this.databaseUrl),
            created: this.created, createdAt: this.createdAt,
            pooledDatabaseUrl: this.pooledDatabaseUrl === null ? null : maskUrl(this.pooledDatabaseUrl),
        };
    }
    toJSON() { return this.toMasked(); }
    toString() { return `ProjectDatabaseInfo(${this.projectId}, ${maskUrl(this.databaseUrl)})`; }
    [node_util_1.inspect.custom]() { return `ProjectDatabaseInfo ${(0, node_util_1.inspect)(this.toMasked())}`; }
}
exports.ProjectDatabaseInfo = ProjectDatabaseInfo;
