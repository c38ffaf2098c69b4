"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.MAX_ENV_FILE_BYTES = void 0;
exports.mergeDatabaseUrl = mergeDatabaseUrl;
exports.writeEnvFile = writeEnvFile;
exports.envForApp = envForApp;
// DATABASE_URL for an app: merged into PROJECTS_DIR/<projectId>/.env.production with the
// CLI's rules, or put into the environment of the process that runs it.
const node_fs_1 = require("node:fs");
const node_crypto_1 = require("node:crypto");
const node_path_1 = __importDefault(require("node:path"));
const errors_1 = require("./errors");
/** The most of an existing .env.production that is read and merged; a larger file is refused. */
exports.MAX_ENV_FILE_BYTES = 1 << 20;
function isDatabaseUrlLine(line) {
    return /^\s*(export\s+)?DATABASE_URL\s*=/.test(line);
}
/** `existing` with its DATABASE_URL line replaced (or added); every other line kept as it was. */
function mergeDatabaseUrl(existing, url) {
    const firstBreak = existing.indexOf('\n');
    const crlf = firstBreak > 0 && existing[firstBreak - 1] === '\r'; // the file's own line ends
    const newline = crlf ? '\r\n' : '\n';
    const parts = existing.length ? existing.split(/(?<=\n)/) : [];
    let replaced = false;
    const out = [];
    for (const part of parts) {
        const ending = part.endsWith('\r\n') ? '\r\n' : part.endsWith('\n') ? '\n' : '';
        const text = part.slice(0, part.length - ending.length);
        if (isDatabaseUrlLine(text)) {
            if (replaced)
                continue; // a later duplicate would override ours in most loaders
            out.push((/^\s*export\s/.test(text) ? 'export ' : '') + `DATABASE_URL=${url}` + ending);
            replaced = true;
        }
        else {
            out.push(part);
        }
    }
    let result = out.join('');
    if (!replaced) {
        if (result.length && !result.endsWith('\n'))
            result += newline;
        result += `DATABASE_URL=${url}${newline}`;
    }
    return result;
}
function refuse(message) {
    throw new errors_1.InvalidInputError('22023', message);
}
/**
 * Writes PROJECTS_DIR/<projectId>/.env.production: mode 0600, through a temporary file and
 * rename(), merging into what is there. Follows no symlink (project directory or file),
 * refuses anything but a regular file and files over MAX_ENV_FILE_BYTES, never blocks on a FIFO.
 */
async function writeEnvFile(projectsDir, projectId, databaseUrl) {
    if (!projectId || projectId === '.' || projectId === '..' || projectId.includes('/') || projectId.includes('\\'))
        refuse(`projectId "${projectId}" cannot name a directory`);
    await node_fs_1.promises.mkdir(projectsDir, { recursive: true });
    const directory = node_path_1.default.join(projectsDir, projectId);
    const file = node_path_1.default.join(directory, '.env.production');
    try {
        await node_fs_1.promises.mkdir(directory, { mode: 0o700 });
    }
    catch (error) {
        if (error.code !== 'EEXIST')
            throw error;
    }
    // O_NOFOLLOW on the last component: a project directory that is a symlink is refused.
    let dirHandle;
    try {
        dirHandle = await node_fs_1.promises.open(directory, node_fs_1.constants.O_RDONLY | node_fs_1.constants.O_DIRECTORY | node_fs_1.constants.O_NOFOLLOW);
    }
    catch (error) {
        const code = error.code;
        if (code === 'ELOOP' || code === 'ENOTDIR') {
            const stat = await node_fs_1.promises.lstat(directory);
            refuse(stat.isSymbolicLink() ? `${directory} is a symbolic link; claudable follows none` : `${directory} is not a directory`);
        }
        throw error;
    }
    try {
        let existing = '';
        let handle;
        try {
            handle = await node_fs_1.promises.open(file, node_fs_1.constants.O_RDONLY | node_fs_1.constants.O_NOFOLLOW | node_fs_1.constants.O_NONBLOCK);
        }
        catch (error) {
            const code = error.code;
            if (code === 'ELOOP')
                refuse(`${file} is a symbolic link; claudable follows none`);
            if (code !== 'ENOENT')
                throw error;
        }
        if (handle) {
            try {
                const stat = await handle.stat();
                if (!stat.isFile())
                    refuse(`${file} is not a regular file; claudable writes only regular files`);
                if (stat.size > exports.MAX_ENV_FILE_BYTES)
                    refuse(`${file} is larger than ${exports.MAX_ENV_FILE_BYTES} bytes; claudable will not merge it`);
                const buffer = Buffer.alloc(exports.MAX_ENV_FILE_BYTES + 1);
                const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
                if (bytesRead > exports.MAX_ENV_FILE_BYTES)
                    refuse(`${file} is larger than ${exports.MAX_ENV_FILE_BYTES} bytes; claudable will not merge it`);
                existing = buffer.subarray(0, bytesRead).toString('utf8');
            }
            finally {
                await handle.close();
            }
        }
        const content = mergeDatabaseUrl(existing, databaseUrl);
        const temporary = node_path_1.default.join(directory, `.env.production.${(0, node_crypto_1.randomBytes)(6).toString('hex')}`);
        const out = await node_fs_1.promises.open(temporary, node_fs_1.constants.O_WRONLY | node_fs_1.constants.O_CREAT | node_fs_1.constants.O_EXCL | node_fs_1.constants.O_NOFOLLOW, 0o600);
        try {
            await out.writeFile(content);
            await out.chmod(0o600);
            await out.sync();
        }
        finally {
            await out.close();
        }
        try {
            await node_fs_1.promises.rename(temporary, file); // replaces a symlink named .env.production itself, never its target
        }
        catch (error) {
            await node_fs_1.promises.rm(temporary, { force: true });
            throw new errors_1.InternalError('58030', `cannot write ${file}: ${error.message}`);
        }
        await dirHandle.sync();
        return file;
    }
    finally {
        await dirHandle.close();
    }
}
/**
 * A copy of `baseEnv` for the app: DATABASE_URL set, and DB_ADMIN_URL and every PG*
 * variable libpq reads (PGPASSWORD, PGPASSFILE, PGSERVICE, PGHOST, ...) removed.
 */
function envForApp(info, baseEnv = process.env) {
    const env = {};
    for (const [name, value] of Object.entries(baseEnv)) {
        if (name === 'DB_ADMIN_URL' || name === 'DATABASE_URL' || name.startsWith('PG'))
            continue;
        env[name] = value;
    }
    env.DATABASE_URL = info.databaseUrl;
    return env;
}
