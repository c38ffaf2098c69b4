"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.APP_BASE_VARIABLES = exports.MAX_ENV_FILE_BYTES = void 0;
exports.databaseVariables = databaseVariables;
exports.mergeEnvVariables = mergeEnvVariables;
exports.mergeDatabaseUrl = mergeDatabaseUrl;
exports.writeEnvFile = writeEnvFile;
exports.refusedAppVariable = refusedAppVariable;
exports.envForApp = envForApp;
// The database variables of an app (DATABASE_URL, DIRECT_URL), merged into
// PROJECTS_DIR/<projectId>/.env.production with the CLI's rules, or put into the environment
// of the process that runs it, which is built from an explicit list and nothing else.
const node_fs_1 = require("node:fs");
const node_crypto_1 = require("node:crypto");
const node_path_1 = __importDefault(require("node:path"));
const errors_1 = require("./errors");
const sslmode_1 = require("./sslmode");
/** The most of an existing .env.production that is read and merged; a larger file is refused. */
exports.MAX_ENV_FILE_BYTES = 1 << 20;
/**
 * The database variables every deploy path gives an app: DATABASE_URL is the pooled URL when
 * the row has one (the server sets claudable.pooler_host), else the direct URL; DIRECT_URL is
 * always the direct URL (for migrations, which need a session of their own).
 */
function databaseVariables(urls, options = {}) {
    const direct = typeof urls === 'string' ? urls : urls?.databaseUrl;
    const pooled = typeof urls === 'string' ? null : urls?.pooledDatabaseUrl;
    if (typeof direct !== 'string' || direct.length === 0)
        throw new errors_1.InvalidInputError('22023', 'the project has no databaseUrl');
    if (pooled !== null && pooled !== undefined && typeof pooled !== 'string')
        throw new errors_1.InvalidInputError('22023', 'the project\'s pooledDatabaseUrl is neither a string nor null');
    for (const url of [direct, pooled])
        if (url && /[\r\n\0]/.test(url))
            throw new errors_1.InvalidInputError('22023', 'a project URL holds a line break or a NUL (it is not shown: it may hold a password)');
    const shape = (url) => (options.nodePostgres ? (0, sslmode_1.nodePostgresUrl)(url) : url);
    return { DATABASE_URL: shape(pooled ? pooled : direct), DIRECT_URL: shape(direct) };
}
function variableLine(text) {
    return /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(text)?.[1];
}
/**
 * `existing` with the line of each of `variables` replaced in place (or added at the end, in
 * the order given); every other line kept as it was, later duplicates of a name dropped.
 */
function mergeEnvVariables(existing, variables) {
    for (const [name, value] of Object.entries(variables))
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || typeof value !== 'string' || /[\r\n\0]/.test(value))
            throw new errors_1.InvalidInputError('22023', `${name.slice(0, 80)} cannot be written as one line of an env file`);
    const firstBreak = existing.indexOf('\n');
    const crlf = firstBreak > 0 && existing[firstBreak - 1] === '\r'; // the file's own line ends
    const newline = crlf ? '\r\n' : '\n';
    const parts = existing.length ? existing.split(/(?<=\n)/) : [];
    const written = new Set();
    const out = [];
    for (const part of parts) {
        const ending = part.endsWith('\r\n') ? '\r\n' : part.endsWith('\n') ? '\n' : '';
        const text = part.slice(0, part.length - ending.length);
        const name = variableLine(text);
        if (name !== undefined && Object.prototype.hasOwnProperty.call(variables, name)) {
            if (written.has(name))
                continue; // a later duplicate would override ours in most loaders
            out.push((/^\s*export\s/.test(text) ? 'export ' : '') + `${name}=${variables[name]}` + ending);
            written.add(name);
        }
        else {
            out.push(part);
        }
    }
    let result = out.join('');
    for (const [name, value] of Object.entries(variables)) {
        if (written.has(name))
            continue;
        if (result.length && !result.endsWith('\n'))
            result += newline;
        result += `${name}=${value}${newline}`;
    }
    return result;
}
/** `existing` with its DATABASE_URL line replaced (or added); every other line kept as it was. */
function mergeDatabaseUrl(existing, url) {
    return mergeEnvVariables(existing, { DATABASE_URL: url });
}
function refuse(message) {
    throw new errors_1.InvalidInputError('22023', message);
}
/**
 * Writes DATABASE_URL and DIRECT_URL (see databaseVariables) into
 * PROJECTS_DIR/<projectId>/.env.production: mode 0600, through a temporary file and rename(),
 * merging into what is there. Follows no symlink (project directory or file), refuses anything
 * but a regular file and files over MAX_ENV_FILE_BYTES, never blocks on a FIFO. `urls` is the
 * project's info (or a URL alone, which is then both DATABASE_URL and DIRECT_URL).
 */
async function writeEnvFile(projectsDir, projectId, urls, options = {}) {
    const variables = databaseVariables(urls, options);
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
        const content = mergeEnvVariables(existing, variables);
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
/** What an app gets from its parent's environment without being named. */
exports.APP_BASE_VARIABLES = Object.freeze(['PATH', 'HOME', 'NODE_ENV', 'PORT', 'TZ', 'LANG']);
const appEnvOptionNames = new Set(['pass', 'parentEnv', 'nodePostgres']);
/** Why `name` may never be passed to an app, or undefined when it may. */
function refusedAppVariable(name) {
    const upper = name.toUpperCase();
    if (upper === 'DB_ADMIN_URL')
        return 'it is the deploy service\'s admin connection';
    if (upper.startsWith('PG'))
        return 'libpq reads every PG* variable (PGPASSWORD, PGPASSFILE, PGSERVICE, PGHOST, ...): it would hand the app ' +
            'the deploy service\'s credentials or change where its connections go';
    if (upper === 'DATABASE_URL' || upper === 'DIRECT_URL')
        return 'it is set from the project\'s own row';
    return undefined;
}
/**
 * The environment to start the app with, built from an explicit list: PATH, HOME, NODE_ENV,
 * PORT, TZ and LANG from the parent, the variables named in `options.pass`, and DATABASE_URL
 * and DIRECT_URL (see databaseVariables). Nothing else of the parent passes: not DB_ADMIN_URL,
 * no PG* variable, none of the platform's secrets. Naming DB_ADMIN_URL, a PG* variable,
 * DATABASE_URL or DIRECT_URL in `pass` throws InvalidInputError.
 */
function envForApp(info, options = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options))
        throw new errors_1.InvalidInputError('22023', 'envForApp(info, options): options is an object { pass, parentEnv, nodePostgres }');
    for (const key of Object.keys(options))
        if (!appEnvOptionNames.has(key))
            throw new errors_1.InvalidInputError('22023', `envForApp(info, options): "${key}" is not an option (pass, parentEnv, nodePostgres); ` +
                'the parent environment goes in options.parentEnv, and only the names in options.pass reach the app');
    const pass = options.pass ?? [];
    if (!Array.isArray(pass))
        throw new errors_1.InvalidInputError('22023', 'envForApp: options.pass is an array of variable names');
    for (const name of pass) {
        if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
            throw new errors_1.InvalidInputError('22023', `envForApp: ${JSON.stringify(String(name)).slice(0, 80)} is not a variable name`);
        const why = refusedAppVariable(name);
        if (why)
            throw new errors_1.InvalidInputError('22023', `envForApp: ${name} may not be passed to the app: ${why}`);
    }
    const parent = options.parentEnv ?? process.env;
    const env = {};
    for (const name of [...exports.APP_BASE_VARIABLES, ...pass]) {
        const value = parent[name];
        if (typeof value === 'string')
            env[name] = value;
    }
    return { ...env, ...databaseVariables(info, options) };
}
