/** The most of an existing .env.production that is read and merged; a larger file is refused. */
export declare const MAX_ENV_FILE_BYTES: number;
/** A project's URLs: a ProjectDatabaseInfo is one. */
export interface ProjectDatabaseUrls {
    /** The direct URL (column database_url). */
    databaseUrl: string;
    /** The URL through the pooler (column pooled_database_url), or null when the server has none. */
    pooledDatabaseUrl?: string | null;
}
/** Options of envForApp and writeEnvFile. */
export interface DatabaseVariablesOptions {
    /** Rewrite both URLs with nodePostgresUrl(), for an app that connects with node-postgres (pg). */
    nodePostgres?: boolean;
}
/**
 * The database variables every deploy path gives an app: DATABASE_URL is the pooled URL when
 * the row has one (the server sets claudable.pooler_host), else the direct URL; DIRECT_URL is
 * always the direct URL (for migrations, which need a session of their own).
 */
export declare function databaseVariables(urls: ProjectDatabaseUrls | string, options?: DatabaseVariablesOptions): {
    DATABASE_URL: string;
    DIRECT_URL: string;
};
/**
 * `existing` with the line of each of `variables` replaced in place (or added at the end, in
 * the order given); every other line kept as it was, later duplicates of a name dropped.
 */
export declare function mergeEnvVariables(existing: string, variables: Readonly<Record<string, string>>): string;
/** `existing` with its DATABASE_URL line replaced (or added); every other line kept as it was. */
export declare function mergeDatabaseUrl(existing: string, url: string): string;
/**
 * Writes DATABASE_URL and DIRECT_URL (see databaseVariables) into
 * PROJECTS_DIR/<projectId>/.env.production: mode 0600, through a temporary file and rename(),
 * merging into what is there. Follows no symlink (project directory or file), refuses anything
 * but a regular file and files over MAX_ENV_FILE_BYTES, never blocks on a FIFO. `urls` is the
 * project's info (or a URL alone, which is then both DATABASE_URL and DIRECT_URL).
 */
export declare function writeEnvFile(projectsDir: string, projectId: string, urls: ProjectDatabaseUrls | string, options?: DatabaseVariablesOptions): Promise<string>;
/** What an app gets from its parent's environment without being named. */
export declare const APP_BASE_VARIABLES: readonly string[];
/** Options of envForApp. */
export interface AppEnvOptions extends DatabaseVariablesOptions {
    /**
     * Names of the parent's variables the app gets too (a variable the parent does not have is
     * left out). DB_ADMIN_URL, every PG* variable, DATABASE_URL and DIRECT_URL are refused.
     */
    pass?: readonly string[];
    /** The parent's environment, where PATH, HOME, ... and the passed names are read: process.env by default. */
    parentEnv?: NodeJS.ProcessEnv;
}
/** Why `name` may never be passed to an app, or undefined when it may. */
export declare function refusedAppVariable(name: string): string | undefined;
/**
 * The environment to start the app with, built from an explicit list: PATH, HOME, NODE_ENV,
 * PORT, TZ and LANG from the parent, the variables named in `options.pass`, and DATABASE_URL
 * and DIRECT_URL (see databaseVariables). Nothing else of the parent passes: not DB_ADMIN_URL,
 * no PG* variable, none of the platform's secrets. Naming DB_ADMIN_URL, a PG* variable,
 * DATABASE_URL or DIRECT_URL in `pass` throws InvalidInputError.
 */
export declare function envForApp(info: ProjectDatabaseUrls, options?: AppEnvOptions): NodeJS.ProcessEnv;
