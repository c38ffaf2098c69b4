// DATABASE_URL for an app: merged into PROJECTS_DIR/<projectId>/.env.production with the
// CLI's rules, or put into the environment of the process that runs it.
import { constants, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

import { InvalidInputError, InternalError } from './errors';

/** The most of an existing .env.production that is read and merged; a larger file is refused. */
export const MAX_ENV_FILE_BYTES = 1 << 20;

function isDatabaseUrlLine(line: string): boolean {
  return /^\s*(export\s+)?DATABASE_URL\s*=/.test(line);
}

/** `existing` with its DATABASE_URL line replaced (or added); every other line kept as it was. */
export function mergeDatabaseUrl(existing: string, url: string): string {
  const firstBreak = existing.indexOf('\n');
  const crlf = firstBreak > 0 && existing[firstBreak - 1] === '\r';  // the file's own line ends
  const newline = crlf ? '\r\n' : '\n';
  const parts = existing.length ? existing.split(/(?<=\n)/) : [];
  let replaced = false;
  const out: string[] = [];
  for (const part of parts) {
    const ending = part.endsWith('\r\n') ? '\r\n' : part.endsWith('\n') ? '\n' : '';
    const text = part.slice(0, part.length - ending.length);
    if (isDatabaseUrlLine(text)) {
      if (replaced) continue;  // a later duplicate would override ours in most loaders
      out.push((/^\s*export\s/.test(text) ? 'export ' : '') + `DATABASE_URL=${url}` + ending);
      replaced = true;
    } else {
      out.push(part);
    }
  }
  let result = out.join('');
  if (!replaced) {
    if (result.length && !result.endsWith('\n')) result += newline;
    result += `DATABASE_URL=${url}${newline}`;
  }
  return result;
}

function refuse(message: string): never {
  throw new InvalidInputError('22023', message);
}

/**
 * Writes PROJECTS_DIR/<projectId>/.env.production: mode 0600, through a temporary file and
 * rename(), merging into what is there. Follows no symlink (project directory or file),
 * refuses anything but a regular file and files over MAX_ENV_FILE_BYTES, never blocks on a FIFO.
 */
export async function writeEnvFile(projectsDir: string, projectId: string, databaseUrl: string): Promise<string> {
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
    const content = mergeDatabaseUrl(existing, databaseUrl);
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

/**
 * A copy of `baseEnv` for the app: DATABASE_URL set, and DB_ADMIN_URL and every PG*
 * variable libpq reads (PGPASSWORD, PGPASSFILE, PGSERVICE, PGHOST, ...) removed.
 */
export function envForApp(info: { databaseUrl: string }, baseEnv: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(baseEnv)) {
    if (name === 'DB_ADMIN_URL' || name === 'DATABASE_URL' || name.startsWith('PG')) continue;
    env[name] = value;
  }
  env.DATABASE_URL = info.databaseUrl;
  return env;
}
