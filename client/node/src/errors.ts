// Errors a deploy route can act on: a kind, the SQLSTATE, and the HTTP status to answer with.
// No message ever holds the admin URL or a password (see scrub in connection.ts).

export type ClaudableErrorKind =
  | 'invalid_input'
  | 'permission_denied'
  | 'conflict'
  | 'limit'
  | 'unavailable'
  | 'outcome_unknown'
  | 'internal';

export class ClaudableError extends Error {
  readonly kind: ClaudableErrorKind;
  readonly sqlstate: string;
  constructor(kind: ClaudableErrorKind, sqlstate: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.kind = kind;
    this.sqlstate = sqlstate;
  }
}

export class InvalidInputError extends ClaudableError {
  constructor(sqlstate: string, message: string) { super('invalid_input', sqlstate, message); }
}
export class PermissionDeniedError extends ClaudableError {
  constructor(sqlstate: string, message: string) { super('permission_denied', sqlstate, message); }
}
export class ConflictError extends ClaudableError {
  constructor(sqlstate: string, message: string) { super('conflict', sqlstate, message); }
}
export class LimitError extends ClaudableError {
  constructor(sqlstate: string, message: string) { super('limit', sqlstate, message); }
}
export class UnavailableError extends ClaudableError {
  constructor(sqlstate: string, message: string) { super('unavailable', sqlstate, message); }
}
/** The connection broke after a deprovision, rotate, snapshot or restore was sent: it may or may not have happened. */
export class OutcomeUnknownError extends ClaudableError {
  constructor(sqlstate: string, message: string) { super('outcome_unknown', sqlstate, message); }
}
export class InternalError extends ClaudableError {
  constructor(sqlstate: string, message: string) { super('internal', sqlstate, message); }
}

/** The error class for a SQLSTATE the server answered with. */
export function errorForSqlstate(sqlstate: string, message: string): ClaudableError {
  // 0A000: what the call asks for is not supported (a branch of a branch).
  if (sqlstate === '22023' || sqlstate === 'P0002' || sqlstate === '0A000') return new InvalidInputError(sqlstate, message);
  if (sqlstate === '42501') return new PermissionDeniedError(sqlstate, message);
  if (sqlstate === '42710') return new ConflictError(sqlstate, message);
  if (sqlstate === '53400') return new LimitError(sqlstate, message);
  // 57P01 (admin_shutdown) and 57P02 (crash_shutdown): the server ended the session. 55006:
  // the project's sessions did not end within the server's bounded wait; call again.
  if (sqlstate === '53000' || sqlstate === '57P03' || sqlstate === '57P01' || sqlstate === '57P02' ||
      sqlstate === '40001' || sqlstate === '55006' || sqlstate.startsWith('08'))
    return new UnavailableError(sqlstate, message);
  return new InternalError(sqlstate, message);
}

const statusByKind: Record<ClaudableErrorKind, number> = {
  invalid_input: 400,
  permission_denied: 403,
  conflict: 409,
  limit: 429,
  unavailable: 503,
  outcome_unknown: 503,
  internal: 500,
};

/** The HTTP status a route handler answers with for `error` (500 for anything not claudable's). */
export function httpStatusFor(error: unknown): number {
  return error instanceof ClaudableError ? statusByKind[error.kind] : 500;
}
