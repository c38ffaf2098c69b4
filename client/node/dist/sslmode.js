"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.nodePostgresUrl = nodePostgresUrl;
// sslmode for node-postgres. libpq and node-postgres (pg 8.x, pg-connection-string) read the
// same URL differently: node-postgres verifies the certificate and the host name for
// sslmode=prefer, require and verify-ca (as for verify-full), turns TLS on for sslmode=allow,
// and never falls back to a connection without TLS. nodePostgresUrl() rewrites a URL so that
// node-postgres does what libpq does where it can; README's table "sslmode in each client"
// holds what each client was seen doing, for every mode (test/node/sslmode_suite.sh).
const errors_1 = require("./errors");
function parameterName(parameter) {
    const name = parameter.split('=', 1)[0];
    try {
        return decodeURIComponent(name);
    }
    catch {
        return name;
    }
}
function parameterValue(parameter) {
    const equals = parameter.indexOf('=');
    const value = equals < 0 ? '' : parameter.slice(equals + 1);
    try {
        return decodeURIComponent(value.replace(/\+/g, ' '));
    }
    catch {
        return value;
    }
}
/**
 * The URL for an app that connects with node-postgres (pg):
 * - `sslmode=require` and `sslmode=verify-ca` get `uselibpqcompat=true`, so node-postgres
 *   means what libpq means (require: TLS without verifying the certificate; verify-ca: the
 *   certificate against `sslrootcert`, not the host name);
 * - `sslmode=allow` and `sslmode=prefer` are removed: node-postgres has no fallback, so it
 *   connects without TLS, as it does for a URL without sslmode (what claudable hands out for
 *   `claudable.sslmode` = allow or prefer);
 * - any other URL (no sslmode, disable, verify-full, or one that already says
 *   `uselibpqcompat`) is returned as it is.
 * Only for node-postgres: libpq (psql, Prisma's migrate, ...) refuses `uselibpqcompat`.
 * Nothing else of the URL changes; the password is never parsed or re-encoded.
 */
function nodePostgresUrl(url) {
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\//i.test(url))
        throw new errors_1.InvalidInputError('22023', 'nodePostgresUrl takes a postgres:// or postgresql:// URL (the value is not shown: it may hold a password)');
    const hash = url.indexOf('#');
    const fragment = hash < 0 ? '' : url.slice(hash);
    const beforeFragment = hash < 0 ? url : url.slice(0, hash);
    const question = beforeFragment.indexOf('?');
    if (question < 0)
        return url; // no sslmode: node-postgres connects without TLS, like sslmode=disable
    const base = beforeFragment.slice(0, question);
    const parameters = beforeFragment.slice(question + 1).split('&').filter((p) => p.length > 0);
    if (parameters.some((p) => parameterName(p).toLowerCase() === 'uselibpqcompat'))
        return url;
    let sslmode;
    for (const p of parameters)
        if (parameterName(p) === 'sslmode')
            sslmode = parameterValue(p); // the last one counts
    let rewritten;
    switch (sslmode) {
        case 'allow':
        case 'prefer':
            rewritten = parameters.filter((p) => parameterName(p) !== 'sslmode');
            break;
        case 'require':
        case 'verify-ca':
            rewritten = [...parameters, 'uselibpqcompat=true'];
            break;
        default:
            return url;
    }
    return base + (rewritten.length ? `?${rewritten.join('&')}` : '') + fragment;
}
