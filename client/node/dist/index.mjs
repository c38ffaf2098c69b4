import cjs from './index.js';
export const { ClaudableError, ConflictError, InternalError, InvalidInputError, LimitError, MASK, MAX_ENV_FILE_BYTES, OutcomeUnknownError, PermissionDeniedError, ProjectDatabaseInfo, UnavailableError, checkProjectDatabases, closeClaudablePools, deprovisionProjectDatabase, envForApp, errorForSqlstate, httpStatusFor, listProjectDatabases, maskDatabaseUrl, maskUrl, mergeDatabaseUrl, provisionProjectDatabase, rotateProjectDatabasePassword, writeEnvFile } = cjs;
export default cjs;
