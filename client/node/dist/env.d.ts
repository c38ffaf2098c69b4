/** The most of an existing .env.production that is read and merged; a larger file is refused. */
export declare const MAX_ENV_FILE_BYTES: number;
/** `existing` with its DATABASE_URL line replaced (or added); every other line kept as it was. */
export declare function mergeDatabaseUrl(existing: string, url: string): string;
/**
 * Writes PROJECTS_DIR/<projectId>/.env.production: mode 0600, through a temporary file and
 * rename(), merging into what is there. Follows no symlink (project directory or file),
 * refuses anything but a regular file and files over MAX_ENV_FILE_BYTES, never blocks on a FIFO.
 */
export declare function writeEnvFile(projectsDir: string, projectId: string, databaseUrl: string): Promise<string>;
/**
 * A copy of `baseEnv` for the app: DATABASE_URL set, and DB_ADMIN_URL and every PG*
 * variable libpq reads (PGPASSWORD, PGPASSFILE, PGSERVICE, PGHOST, ...) removed.
 */
export declare function envForApp(info: {
    databaseUrl: string;
}, baseEnv?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
