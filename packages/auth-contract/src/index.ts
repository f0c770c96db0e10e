// @edge/auth-contract: what apps/auth (the issuer) and apps/authn-processor (the gateway) must
// agree on. Import only from here.
export {
  covers,
  formatScopes,
  isSubset,
  isValidScope,
  KEYS_READ,
  KEYS_WRITE,
  missingScopes,
  normalizeScopes,
  ROOT_SCOPES,
  SCOPE_PART,
  SCOPE_STRING,
  scopeFromString,
  scopeToString,
  type Scope,
} from './scopes';
export { type CredentialKind, type Principal } from './principal';
export { Clock, ManualClock, SystemClock } from './clock';
export {
  authErrorBody,
  detailsCode,
  errorBody,
  errorDetails,
  FORBIDDEN_CODES,
  formatErrorBody,
  SERVER_ERROR_CODES,
  statusMessage,
  UNAUTHENTICATED_CODES,
  type AuthErrorBody,
  type AuthErrorCode,
  type ErrorBody,
  type ForbiddenCode,
  type ServerErrorCode,
  type UnauthenticatedCode,
} from './errors';
export { AUTHN_DYNAMIC_METADATA_NAMESPACE, AUTHN_ROUTE_METADATA_NAMESPACE } from './metadata';
export {
  authGrpcPackageDefinition,
  authV1,
  health,
  HEALTH_SERVICE,
  KEY_VERIFICATION_SERVICE,
} from './grpc';
export {
  DEFAULT_JWT_MAX_TTL_SECONDS,
  JWT_MAX_TTL_ENV,
  MAX_JWT_MAX_TTL_SECONDS,
  tokenLifetimeProblem,
  type TokenTimes,
} from './token-lifetime';
