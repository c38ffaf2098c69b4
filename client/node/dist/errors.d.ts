export type ClaudableErrorKind = 'invalid_input' | 'permission_denied' | 'conflict' | 'limit' | 'unavailable' | 'outcome_unknown' | 'internal';
export declare class ClaudableError extends Error {
    readonly kind: ClaudableErrorKind;
    readonly sqlstate: string;
    constructor(kind: ClaudableErrorKind, sqlstate: string, message: string);
}
export declare class InvalidInputError extends ClaudableError {
    constructor(sqlstate: string, message: string);
}
export declare class PermissionDeniedError extends ClaudableError {
    constructor(sqlstate: string, message: string);
}
export declare class ConflictError extends ClaudableError {
    constructor(sqlstate: string, message: string);
}
export declare class LimitError extends ClaudableError {
    constructor(sqlstate: string, message: string);
}
export declare class UnavailableError extends ClaudableError {
    constructor(sqlstate: string, message: string);
}
/** The connection broke after a deprovision, rotate, snapshot or restore was sent: it may or may not have happened. */
export declare class OutcomeUnknownError extends ClaudableError {
    constructor(sqlstate: string, message: string);
}
export declare class InternalError extends ClaudableError {
    constructor(sqlstate: string, message: string);
}
/** The error class for a SQLSTATE the server answered with. */
export declare function errorForSqlstate(sqlstate: string, message: string): ClaudableError;
/** The HTTP status a route handler answers with for `error` (500 for anything not claudable's). */
export declare function httpStatusFor(error: unknown): number;
