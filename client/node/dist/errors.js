"use strict";
// Errors a deploy route can act on: a kind, the SQLSTATE, and the HTTP status to answer with.
// No message ever holds the admin URL or a password (see scrub in connection.ts).
Object.defineProperty(exports, "__esModule", { value: true });
exports.InternalError = exports.OutcomeUnknownError = exports.UnavailableError = exports.LimitError = exports.ConflictError = exports.PermissionDeniedError = exports.InvalidInputError = exports.ClaudableError = void 0;
exports.errorForSqlstate = errorForSqlstate;
exports.httpStatusFor = httpStatusFor;
class ClaudableError extends Error {
    kind;
    sqlstate;
    constructor(kind, sqlstate, message) {
        super(message);
        this.name = new.target.name;
        this.kind = kind;
        this.sqlstate = sqlstate;
    }
}
exports.ClaudableError = ClaudableError;
class InvalidInputError extends ClaudableError {
    constructor(sqlstate, message) { super('invalid_input', sqlstate, message); }
}
exports.InvalidInputError = InvalidInputError;
class PermissionDeniedError extends ClaudableError {
    constructor(sqlstate, message) { super('permission_denied', sqlstate, message); }
}
exports.PermissionDeniedError = PermissionDeniedError;
class ConflictError extends ClaudableError {
    constructor(sqlstate, message) { super('conflict', sqlstate, message); }
}
exports.ConflictError = ConflictError;
class LimitError extends ClaudableError {
    constructor(sqlstate, message) { super('limit', sqlstate, message); }
}
exports.LimitError = LimitError;
class UnavailableError extends ClaudableError {
    constructor(sqlstate, message) { super('unavailable', sqlstate, message); }
}
exports.UnavailableError = UnavailableError;
/** The connection broke after a deprovision, rotate, snapshot or restore was sent: it may or may not have happened. */
class OutcomeUnknownError extends ClaudableError {
    constructor(sqlstate, message) { super('outcome_unknown', sqlstate, message); }
}
exports.OutcomeUnknownError = OutcomeUnknownError;
class InternalError extends ClaudableError {
    constructor(sqlstate, message) { super('internal', sqlstate, message); }
}
exports.InternalError = InternalError;
/** The error class for a SQLSTATE the server answered with. */
function errorForSqlstate(sqlstate, message) {
    // 0A000: what the call asks for is not supported (a branch of a branch).
    if (sqlstate === '22023' || sqlstate === 'P0002' || sqlstate === '0A000')
        return new InvalidInputError(sqlstate, message);
    if (sqlstate === '42501')
        return new PermissionDeniedError(sqlstate, message);
    if (sqlstate === '42710')
        return new ConflictError(sqlstate, message);
    if (sqlstate === '53400')
        return new LimitError(sqlstate, message);
    // 57P01 (admin_shutdown) and 57P02 (crash_shutdown): the server ended the session. 55006:
    // the project's sessions did not end within the server's bounded wait; call again.
    if (sqlstate === '53000' || sqlstate === '57P03' || sqlstate === '57P01' || sqlstate === '57P02' ||
        sqlstate === '40001' || sqlstate === '55006' || sqlstate.startsWith('08'))
        return new UnavailableError(sqlstate, message);
    return new InternalError(sqlstate, message);
}
const statusByKind = {
    invalid_input: 400,
    permission_denied: 403,
    conflict: 409,
    limit: 429,
    unavailable: 503,
    outcome_unknown: 503,
    internal: 500,
};
/** The HTTP status a route handler answers with for `error` (500 for anything not claudable's). */
function httpStatusFor(error) {
    return error instanceof ClaudableError ? statusByKind[error.kind] : 500;
}
