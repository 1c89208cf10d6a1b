/**
 * Every error code Commodore answers with, in one place: what it means and the HTTP status it
 * reaches when it crosses the HTTP transport (`statusForCode` reads this table), so no code
 * ends in an accidental 500. `CommodoreError` takes only codes listed here; a test checks that
 * no other `E_…` literal appears in the sources.
 *
 * Codes that belong to the command line or to start-up (configuration, keys, listening) never
 * reach an HTTP client; they carry 500 for completeness, as a fault of the server's own setup.
 */

/** One catalogue entry. */
export interface ErrorCodeEntry {
  /** HTTP status an HTTP client receives for it. */
  readonly status: number;
  /** What it means, for docs and for whoever reads the code in a log. */
  readonly meaning: string;
}

const BAD_REQUEST = 400;
const UNAUTHORIZED = 401;
const FORBIDDEN = 403;
const NOT_FOUND = 404;
const TIMEOUT = 408;
const CONFLICT = 409;
const TOO_LARGE = 413;
const UNSUPPORTED = 415;
const MISDIRECTED = 421;
const UNPROCESSABLE = 422;
const TOO_MANY = 429;
const HEADERS_TOO_LARGE = 431;
const INTERNAL = 500;
const BAD_GATEWAY = 502;
const UNAVAILABLE = 503;

const e = (status: number, meaning: string): ErrorCodeEntry => ({ status, meaning });

/** The catalogue. */
export const ERROR_CODES = {
  // Commands and their arguments
  E_SYNTAX: e(BAD_REQUEST, "the command text does not parse"),
  E_UNKNOWN_COMMAND: e(BAD_REQUEST, "no such command"),
  E_BAD_ARGUMENT: e(BAD_REQUEST, "an argument or option of the command is invalid"),
  E_FILTER_TOO_COSTLY: e(BAD_REQUEST, "a where term exceeds the matching budget of one request"),
  E_FLEET_REGEX: e(BAD_REQUEST, "a regular expression term cannot be compiled"),
  E_FLEET_PROVIDER_ARGS: e(BAD_REQUEST, "a provider refused its arguments"),
  // HTTP requests
  E_MALFORMED_JSON: e(BAD_REQUEST, "the request body is not JSON"),
  E_INVALID_FIELD: e(BAD_REQUEST, "a field of the request is missing or invalid"),
  E_MALFORMED_REQUEST: e(BAD_REQUEST, "the request is not valid HTTP/1.1 (line, headers, framing)"),
  E_REQUEST_TIMEOUT: e(TIMEOUT, "the request line, headers or body did not arrive in time"),
  E_HEADERS_TOO_LARGE: e(HEADERS_TOO_LARGE, "the request line and headers exceed 16 KiB"),
  E_UNAUTHORIZED: e(UNAUTHORIZED, "no or an unknown bearer token"),
  E_CROSS_ORIGIN: e(FORBIDDEN, "a state-changing request from another origin"),
  E_NOT_FOUND: e(NOT_FOUND, "no such job, page or route"),
  E_BODY_TOO_LARGE: e(TOO_LARGE, "the request body exceeds http.bodyLimitBytes"),
  E_UNSUPPORTED_MEDIA_TYPE: e(UNSUPPORTED, "a JSON route got another Content-Type"),
  E_UNKNOWN_HOST: e(MISDIRECTED, "the Host header names no address this server answers for"),
  E_RATE_LIMITED: e(TOO_MANY, "the caller's rate limit is used up"),
  E_RATE_LIMIT_UNAVAILABLE: e(UNAVAILABLE, "the shared rate limit store cannot be reached"),
  E_INTERNAL: e(INTERNAL, "an unexpected failure; the server log has the details"),
  // Permissions and confirmations
  E_PERMISSION_DENIED: e(FORBIDDEN, "no role of the caller grants this"),
  E_CONFIRM_SAME_PERSON: e(FORBIDDEN, "the request needs a second person to confirm it"),
  E_CONFIRM_UNKNOWN: e(NOT_FOUND, "no pending command has this code (used or expired)"),
  E_CONFIRM_TAMPERED: e(CONFLICT, "the pending command failed verification in Redis"),
  E_CONFIRM_REPLAYED: e(CONFLICT, "the pending command was already confirmed once"),
  // Jobs
  E_JOB_FINISHED: e(CONFLICT, "the job already finished, so it cannot be cancelled"),
  // Fleet
  E_FLEET_UNAVAILABLE: e(UNAVAILABLE, "the bot runs without a fleet executor"),
  E_NODE_NOT_REGISTERED: e(NOT_FOUND, "the host has no live registration"),
  E_NODE_FINGERPRINT: e(CONFLICT, "the host presents another key than the fingerprint given"),
  E_NODE_STATE: e(CONFLICT, "the host's key is not in the state this action needs"),
  E_NODE_REVOKED: e(CONFLICT, "the key was revoked or rejected; a revoked key stays revoked"),
  E_NO_MATCH: e(UNPROCESSABLE, "no accepted host matches the filter; nothing was sent"),
  E_FLEET_FILE_REFUSED: e(FORBIDDEN, "a log file is a symlink or not a regular file"),
  // Provisioning
  E_PROVISION_UNAVAILABLE: e(UNAVAILABLE, "provisioning is not configured"),
  E_PROVISION_QUEUE_BUSY: e(UNAVAILABLE, "the provisioning queue could not take the job"),
  E_PROVISION_ALREADY_PENDING: e(CONFLICT, "a run for this host is already pending"),
  E_PROVISION_PLAYBOOK: e(BAD_REQUEST, "no such playbook"),
  E_PROVISION_NO_PLAYBOOK: e(BAD_REQUEST, "no playbook named or configured for this host"),
  E_PROVISION_EXTRA_VAR: e(BAD_REQUEST, "an extra var is not allowed or unusable"),
  E_PROVISION_HOST: e(BAD_REQUEST, "the host name or address is invalid or ambiguous"),
  E_PROVISION_UNKNOWN_HOST_KEY: e(CONFLICT, "no accepted key for the host and no TOFU network"),
  E_PROVISION_HOST_KEY_CHANGED: e(CONFLICT, "the host presents another key than the accepted one"),
  E_PROVISION_PIN_TAMPERED: e(CONFLICT, "a TOFU host-key pin failed verification in Redis"),
  E_PROVISION_UNKNOWN_JOB: e(NOT_FOUND, "no such provisioning job"),
  E_PROVISION_UNREACHABLE: e(BAD_GATEWAY, "the host did not answer on SSH"),
  E_PROVISION_DETACHED: e(INTERNAL, "the bot stopped following a run it had started"),
  // Voice webhook (answered in its own body format; statuses as sent)
  E_VOICE_HEADERS: e(BAD_REQUEST, "a signature header is missing or malformed"),
  E_VOICE_CERT_URL: e(BAD_REQUEST, "SignatureCertChainUrl breaks the URL rules"),
  E_VOICE_CERT_FETCH: e(BAD_REQUEST, "the certificate chain could not be fetched"),
  E_VOICE_CERT_CHAIN: e(BAD_REQUEST, "the certificate chain does not reach a trusted root"),
  E_VOICE_CERT_DATES: e(BAD_REQUEST, "a certificate is outside its validity dates"),
  E_VOICE_CERT_SAN: e(BAD_REQUEST, "the leaf certificate does not name echo-api.amazon.com"),
  E_VOICE_SIGNATURE: e(BAD_REQUEST, "Signature-256 does not verify over the body"),
  E_VOICE_TIMESTAMP: e(BAD_REQUEST, "the request timestamp is too far from now"),
  E_VOICE_APPLICATION: e(BAD_REQUEST, "the application id is not served here"),
  E_VOICE_REQUEST: e(BAD_REQUEST, "the body is not a request envelope"),
  E_VOICE_REPLAY: e(BAD_REQUEST, "the request id was already received"),
  E_VOICE_VERIFY: e(BAD_REQUEST, "verification failed unexpectedly"),
  E_VOICE_TOO_LARGE: e(TOO_LARGE, "the body exceeds the voice body limit"),
  E_VOICE_UNAVAILABLE: e(UNAVAILABLE, "the replay check cannot be reached"),
  E_VOICE_HANDLER: e(INTERNAL, "the bot failed while answering the intent"),
  // Sealed state
  E_STATE_SEAL: e(INTERNAL, "the sealer was misused (a bug)"),
  // Start-up, configuration and keys (never an HTTP answer)
  E_CONFIG_INVALID: e(INTERNAL, "the configuration file has problems"),
  E_OPTIONS: e(INTERNAL, "an option or setting is invalid"),
  E_LISTEN: e(INTERNAL, "the HTTP server cannot listen"),
  E_REDIS_MISSING: e(UNAVAILABLE, "redis-server is not installed for the embedded Redis"),
  E_REDIS_START: e(UNAVAILABLE, "the embedded redis-server did not start"),
  E_FLEET_KEY: e(INTERNAL, "a key file or key line is unusable"),
  E_FLEET_ALLOWED_SIGNERS: e(INTERNAL, "the allowed_signers file is unreadable or invalid"),
  E_FLEET_KNOWN_HOSTS: e(INTERNAL, "the known_hosts file is unreadable or invalid"),
  E_FLEET_WIRE: e(INTERNAL, "an SSH wire encoding is truncated"),
  // Command line (never an HTTP answer)
  E_CLI_UNKNOWN_COMMAND: e(INTERNAL, "no such subcommand"),
  E_CLI_UNKNOWN_FLAG: e(INTERNAL, "no such flag for the subcommand"),
  E_CLI_INVALID_ARGUMENT: e(INTERNAL, "a flag or argument has an invalid value"),
  E_CLI_MISSING_ARGUMENT: e(INTERNAL, "a required flag or argument is missing"),
  E_CLI_KEY: e(INTERNAL, "a key file given on the command line is unusable"),
  E_CLI_REDIS_UNAVAILABLE: e(INTERNAL, "Redis could not be reached from the command line"),
  E_CLI_NO_STATE_DIR: e(INTERNAL, "no state directory can be chosen"),
} as const satisfies Readonly<Record<string, ErrorCodeEntry>>;

/** A code from the catalogue. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is in the catalogue. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The HTTP status for `code`; a code outside the catalogue is a bug and answers 500. */
export function httpStatusOf(code: string): number {
  return isErrorCode(code) ? ERROR_CODES[code].status : INTERNAL;
}
