// The database variables of an app (DATABASE_URL, DIRECT_URL), merged into
// PROJECTS_DIR/<projectId>/.env.production with the CLI's rules, or put into the environment
// of the process that runs it, which is built from an explicit list and nothing else.
import { constants, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

import { InvalidInputError, InternalError } from './errors';
import { nodePostgresUrl } from './sslmode';

/** The most of an existing .env.production that is read and merged; a larger file is refused. */
export const MAX_ENV_FILE_BYTES = 1 << 20;

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
export function databaseVariables(urls: ProjectDatabaseUrls | string,
                                  options: DatabaseVariablesOptions = {}): { DATABASE_URL: string; DIRECT_URL: string } {
  const direct = typeof urls === 'string' ? urls : urls?.databaseUrl;
  const pooled = typeof urls === 'string' ? null : urls?.pooledDatabaseUrl;
  if (typeof direct !== 'string' || direct.length === 0)
    throw new InvalidInputError('22023', 'the project has no databaseUrl');
  if (pooled !== null && pooled !== undefined && typeof pooled !== 'string')
    throw new InvalidInputError('22023', 'the project\'s pooledDatabaseUrl is neither a string nor null');
  for (const url of [direct, pooled])
    if (url && /[\r\n\0]/.test(url))
      throw new InvalidInputError('22023', 'a project URL holds a line break or a NUL (it is not shown: it may hold a password)');
  const shape = (url: string) => (options.nodePostgres ? nodePostgresUrl(url) : url);
  return { DATABASE_URL: shape(pooled ? pooled : direct), DIRECT_URL: shape(direct) };
}

function variableLine(text: string): string | undefined {
  return /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(text)?.[1];
}

/**
 * `existing` with the line of each of `variables` replaced in place (or added at the end, in
 * the order given); every other line kept as it was, later duplicates of a name dropped.
 */
export function mergeEnvVariables(existing: string, variables: Readonly<Record<string, string>>): string {
  for (const [name, value] of Object.entries(variables))
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || typeof value !== 'string' || /[\r\n\0]/.test(value))
      throw new InvalidInputError('22023', `${name.slice(0, 80)} cannot be written as one line of an env file`);
  const firstBreak = existing.indexOf('\n');
  const crlf = firstBreak > 0 && existing[firstBreak - 1] === '\r';  // the file's own line ends
  const newline = crlf ? '\r\n' : '\n';
  const parts = existing.length ? existing.split(/(?<=\n)/) : [];
  const written = new Set<string>();
  const out: string[] = [];
  for (const part of parts) {
    const ending = part.endsWith('\r\n') ? '\r\n' : part.endsWith('\n') ? '\n' : '';
    const text = part.slice(0, part.length - ending.length);
    const name = variableLine(text);
    if (name !== undefined && Object.prototype.hasOwnProperty.call(variables, name)) {
      if (written.has(name)) continue;  // a later duplicate would override ours in most loaders
      out.push((/^\s*export\s/.test(text) ? 'export ' : '') + `${name}=${variables[name]}` + ending);
      written.add(name);
    } else {
      out.push(part);
    }
  }
  let result = out.join('');
  for (const [name, value] of Object.entries(variables)) {
    if (written.has(name)) continue;
    if (result.length && !result.endsWith('\n')) result += newline;
    result += `${name}=${value}${newline}`;
  }
  return result;
}

/** `existing` with its DATABASE_URL line replaced (or added); every other line kept as it was. */
export function mergeDatabaseUrl(existing: string, url: string): string {
  return mergeEnvVariables(existing, { DATABASE_URL: url });
}

function refuse(message: string): never {
  throw new InvalidInputError('22023', message);
}

/**
 * Writes DATABASE_URL and DIRECT_URL (see databaseVariables) into
 * PROJECTS_DIR/<projectId>/.env.production: mode 0600, through a temporary file and rename(),
 * merging into what is there. Follows no symlink (project directory or file), refuses anything
 * but a regular file and files over MAX_ENV_FILE_BYTES, never blocks on a FIFO. `urls` is the
 * project's info (or a URL alone, which is then both DATABASE_URL and DIRECT_URL).
 */
export async function writeEnvFile(projectsDir: string, projectId: string, urls: ProjectDatabaseUrls | string,
                                   options: DatabaseVariablesOptions = {}): Promise<string> {
  const variables = databaseVariables(urls, options);
  if (!projectId || projectId === '.' || projectId === '..' || projectId.includes('/') || projectId.includes('\\'))
    refuse(`projectId "${projectId}" cannot name a directory`);
  await fs.mkdir(projectsDir, { recursive: true });
  const directory = path.join(projectsDir, projectId);
  const file = path.join(directory, '.env.production');
  try {
    await fs.mkdir(directory, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // O_NOFOLLOW on the last component: a project directory that is a symlink is refused.
  let dirHandle: fs.FileHandle;
  try {
    dirHandle = await fs.open(directory, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      const stat = await fs.lstat(directory);
      refuse(stat.isSymbolicLink() ? `${directory} is a symbolic link; claudable follows none` : `${directory} is not a directory`);
    }
    throw error;
  }
  try {
    let existing = '';
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') refuse(`${file} is a symbolic link; claudable follows none`);
      if (code !== 'ENOENT') throw error;
    }
    if (handle) {
      try {
        const stat = await handle.stat();
        if (!stat.isFile()) refuse(`${file} is not a regular file; claudable writes only regular files`);
        if (stat.size > MAX_ENV_FILE_BYTES) refuse(`${file} is larger than ${MAX_ENV_FILE_BYTES} bytes; claudable will not merge it`);
        const buffer = Buffer.alloc(MAX_ENV_FILE_BYTES + 1);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        if (bytesRead > MAX_ENV_FILE_BYTES) refuse(`${file} is larger than ${MAX_ENV_FILE_BYTES} bytes; claudable will not merge it`);
        existing = buffer.subarray(0, bytesRead).toString('utf8');
      } finally {
        await handle.close();
      }
    }
    const content = mergeEnvVariables(existing, variables);
    const temporary = path.join(directory, `.env.production.${randomBytes(6).toString('hex')}`);
    const out = await fs.open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      await out.writeFile(content);
      await out.chmod(0o600);
      await out.sync();
    } finally {
      await out.close();
    }
    try {
      await fs.rename(temporary, file);  // replaces a symlink named .env.production itself, never its target
    } catch (error) {
      await fs.rm(temporary, { force: true });
      throw new InternalError('58030', `cannot write ${file}: ${(error as Error).message}`);
    }
    await dirHandle.sync();
    return file;
  } finally {
    await dirHandle.close();
  }
}

/** What an app gets from its parent's environment without being named. */
export const APP_BASE_VARIABLES: readonly string[] = Object.freeze(['PATH', 'HOME', 'NODE_ENV', 'PORT', 'TZ', 'LANG']);

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

const appEnvOptionNames = new Set(['pass', 'parentEnv', 'nodePostgres']);

/** Why `name` may never be passed to an app, or undefined when it may. */
export function refusedAppVariable(name: string): string | undefined {
  const upper = name.toUpperCase();
  if (upper === 'DB_ADMIN_URL') return 'it is the deploy service\'s admin connection';
  if (upper.startsWith('PG'))
    return 'libpq reads every PG* variable (PGPASSWORD, PGPASSFILE, PGSERVICE, PGHOST, ...): it would hand the app ' +
           'the deploy service\'s credentials or change where its connections go';
  if (upper === 'DATABASE_URL' || upper === 'DIRECT_URL') return 'it is set from the project\'s own row';
  return undefined;
}

/**
 * The environment to start the app with, built from an explicit list: PATH, HOME, NODE_ENV,
 * PORT, TZ and LANG from the parent, the variables named in `options.pass`, and DATABASE_URL
 * and DIRECT_URL (see databaseVariables). Nothing else of the parent passes: not DB_ADMIN_URL,
 * no PG* variable, none of the platform's secrets. Naming DB_ADMIN_URL, a PG* variable,
 * DATABASE_URL or DIRECT_URL in `pass` throws InvalidInputError.
 */
export function envForApp(info: ProjectDatabaseUrls, options: AppEnvOptions = {}): NodeJS.ProcessEnv {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new InvalidInputError('22023', 'envForApp(info, options): options is an object { pass, parentEnv, nodePostgres }');
  for (const key of Object.keys(options))
    if (!appEnvOptionNames.has(key))
      throw new InvalidInputError('22023',
        `envForApp(info, options): "${key}" is not an option (pass, parentEnv, nodePostgres); ` +
        'the parent environment goes in options.parentEnv, and only the names in options.pass reach the app');
  const pass = options.pass ?? [];
  if (!Array.isArray(pass)) throw new InvalidInputError('22023', 'envForApp: options.pass is an array of variable names');
  for (const name of pass) {
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new InvalidInputError('22023', `envForApp: ${JSON.stringify(String(name)).slice(0, 80)} is not a variable name`);
    const why = refusedAppVariable(name);
    if (why) throw new InvalidInputError('22023', `envForApp: ${name} may not be passed to the app: ${why}`);
  }
  const parent = options.parentEnv ?? process.env;
  const env: NodeJS.ProcessEnv = {};
  for (const name of [...APP_BASE_VARIABLES, ...pass]) {
    const value = parent[name];
    if (typeof value === 'string') env[name] = value;
  }
  return { ...env, ...databaseVariables(info, options) };
}
