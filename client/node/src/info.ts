// The row of claudable_provision, in camelCase. The password and the URL are real when read
// as properties, and masked wherever a human reads: console.log, util.inspect,
// JSON.stringify and String().
import { inspect } from 'node:util';

export const MASK = '********';

/** The URL with its password replaced by the mask. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, `$1${MASK}@`);
}

export interface ProjectDatabaseRow {
  projectId: string;
  ownerId: string;
  databaseName: string;
  username: string;
  password: string;
  host: string;
  port: number;
  databaseUrl: string;
  created: boolean;
  createdAt: Date;
  /** The URL through the pooler (PgBouncer), when the server sets claudable.pooler_host; null otherwise. */
  pooledDatabaseUrl: string | null;
}

// The secrets live beside the object, not on it: nothing that walks its properties sees them.
const secrets = new WeakMap<ProjectDatabaseInfo, { password: string; databaseUrl: string; pooledDatabaseUrl: string | null }>();

export class ProjectDatabaseInfo {
  readonly projectId: string;
  readonly ownerId: string;
  readonly databaseName: string;
  readonly username: string;
  readonly host: string;
  readonly port: number;
  readonly created: boolean;
  readonly createdAt: Date;

  constructor(row: ProjectDatabaseRow) {
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
  get password(): string { return secrets.get(this)!.password; }
  /** The real DATABASE_URL. */
  get databaseUrl(): string { return secrets.get(this)!.databaseUrl; }
  /** The real pooled URL (PgBouncer, transaction pooling), or null when the server has no pooler set. */
  get pooledDatabaseUrl(): string | null { return secrets.get(this)!.pooledDatabaseUrl; }

  /** What humans and logs see: every field, the password and the URL's password masked. */
  toMasked(): Omit<ProjectDatabaseRow, never> {
    return {
      projectId: this.projectId, ownerId: this.ownerId, databaseName: this.databaseName, username: this.username,
      password: MASK, host: this.host, port: this.port, databaseUrl: maskUrl(this.databaseUrl),
      created: this.created, createdAt: this.createdAt,
      pooledDatabaseUrl: this.pooledDatabaseUrl === null ? null : maskUrl(this.pooledDatabaseUrl),
    };
  }
  toJSON(): Omit<ProjectDatabaseRow, never> { return this.toMasked(); }
  toString(): string { return `ProjectDatabaseInfo(${this.projectId}, ${maskUrl(this.databaseUrl)})`; }
  [inspect.custom](): string { return `ProjectDatabaseInfo ${inspect(this.toMasked())}`; }
}
