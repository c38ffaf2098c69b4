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
export declare function nodePostgresUrl(url: string): string;
