"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.closeClaudablePools = closeClaudablePools;
exports.call = call;
exports.internal = internal;
// The deploy service's connection to the claudable extension: one pg.Pool per admin URL,
// parameterized calls, retries for what may be retried, and messages without secrets.
const pg_1 = __importDefault(require("pg"));
const errors_1 = require("./errors");
const info_1 = require("./info");
const pools = new Map();
/** Closes every pool this package opened (one per admin URL). Call it on shutdown. */
async function closeClaudablePools() {
    const open = [...pools.values()];
    pools.clear();
    await Promise.all(open.map((pool) => pool.end()));
}
function target(options) {
    if (options.pool)
        return { pool: options.pool, secrets: [] };
    const adminUrl = options.adminUrl ?? process.env.DB_ADMIN_URL;
    if (!adminUrl)
        throw new errors_1.InvalidInputError('22023', 'no admin connection: pass options.adminUrl or options.pool, or set DB_ADMIN_URL');
    const secrets = secretsOf(adminUrl);
    let pool = pools.get(adminUrl);
    if (!pool) {
        try {
            decodeURIComponent(new URL(adminUrl).password);
        }
        catch {
            throw new errors_1.InvalidInputError('22023', 'the admin URL is malformed (it is not shown: it may hold the password)');
        }
        pool = new pg_1.default.Pool({ connectionString: adminUrl, max: 10, connectionTimeoutMillis: 5000,
            application_name: 'claudable-client (node)' });
        pool.on('error', () => { });
        pools.set(adminUrl, pool);
    }
    return { pool, secrets };
}
function secretsOf(adminUrl) {
    const found = [adminUrl];
    const raw = /^[a-z]+:\/\/[^:/@]*:([^@]*)@/i.exec(adminUrl)?.[1];
    if (raw) {
        found.push(raw);
        try {
            found.push(decodeURIComponent(raw));
        }
        catch { /* malformed: the raw form is enough */ }
    }
    return found.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}
function scrub(message, secrets) {
    let text = message;
    for (const secret of secrets)
        text = text.split(secret).join(info_1.MASK);
    return text;
}
// A server answer becomes its kind; a broken connection becomes unavailable (not sent)
// or outcome_unknown (sent, for calls that are not idempotent).
function classify(error, secrets, sent, idempotent, fn) {
    if (error instanceof errors_1.ClaudableError)
        return error;
    const e = error;
    const message = scrub(e?.message ?? String(error), secrets) + (e?.hint ? ` (hint: ${scrub(e.hint, secrets)})` : '');
    const code = typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
    // A terminated session (57P01, 57P02) is a lost connection like class 08, not an answer.
    const lost = code === undefined || code.startsWith('08') || code === '57P01' || code === '57P02';
    if (!lost)
        return (0, errors_1.errorForSqlstate)(code, message);
    if (!sent)
        return new errors_1.UnavailableError(code ?? '08001', `cannot connect to the server: ${message}`);
    if (!idempotent)
        return new errors_1.OutcomeUnknownError('08006', `the connection was lost after ${fn} was sent: it may or may not have ` +
            `taken effect, so it was not sent again (${message})`);
    return new errors_1.UnavailableError('08006', `the connection to the server was lost: ${message}`);
}
/** Runs `sql` on a connection of its own; idempotent calls retry transient faults. */
async function call(options, fn, sql, params, idempotent, read) {
    const { pool, secrets } = target(options);
    const budget = options.retryBudgetMs ?? 10_000;
    const started = Date.now();
    let backoff = 100;
    for (let attempt = 1;; attempt++) {
        let sent = false;
        try {
            const client = await pool.connect();
            // A connection that breaks under a running query also emits 'error' on the client;
            // the query's own rejection is what reports it.
            const ignore = () => { };
            client.on?.('error', ignore);
            try {
                sent = true;
                const result = await client.query(sql, params);
                client.removeListener?.('error', ignore);
                client.release();
                return read(result.rows);
            }
            catch (error) {
                client.release(true); // a connection that failed is not reused; its late 'error' stays ignored
                throw error;
            }
        }
        catch (error) {
            const failure = classify(error, secrets, sent, idempotent, fn);
            const retryable = failure.kind === 'unavailable' && (idempotent || !sent ||
                failure.sqlstate === '53000' || failure.sqlstate === '57P03');
            const pause = backoff * (0.5 + Math.random() / 2);
            if (!retryable || Date.now() - started + pause > budget)
                throw failure;
            options.onRetry?.(attempt, failure);
            await new Promise((resolve) => setTimeout(resolve, pause));
            backoff = Math.min(backoff * 2, 2000);
        }
    }
}
function internal(message) {
    return new errors_1.InternalError('XX000', message);
}
