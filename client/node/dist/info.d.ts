import { inspect } from 'node:util';
export declare const MASK = "********";
/** The URL with its password replaced by the mask. */
export declare function maskUrl(url: string): string;
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
export declare class ProjectDatabaseInfo {
    readonly projectId: string;
    readonly ownerId: string;
    readonly databaseName: string;
    readonly username: string;
    readonly host: string;
    readonly port: number;
    readonly created: boolean;
    readonly createdAt: Date;
    constructor(row: ProjectDatabaseRow);
    /** The real password. */
    get password(): string;
    /** The real DATABASE_URL. */
    get databaseUrl(): string;
    /** The real pooled URL (PgBouncer, transaction pooling), or null when the server has no pooler set. */
    get pooledDatabaseUrl(): string | null;
    /** What humans and logs see: every field, the password and the URL's password masked. */
    toMasked(): Omit<ProjectDatabaseRow, never>;
    toJSON(): Omit<ProjectDatabaseRow, never>;
    toString(): string;
    [inspect.custom](): string;
}
