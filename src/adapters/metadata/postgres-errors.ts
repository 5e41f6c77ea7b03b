import pg from 'pg';
import { TroveError } from '../../errors.js';

/** Where a connection string points, safe to print (no password). */
export interface PostgresTarget {
  /** Host name, address or socket directory. */
  host: string;
  /** TCP port (also names the socket file). */
  port: number;
  /** Database name. */
  database: string;
  /** Role name. */
  user: string;
  /** The connection string with any password replaced by ***. */
  redacted: string;
}

/**
 * Hides the password of a URL (`postgres://u:secret@h/db`) or keyword form
 * (`password=secret`). Greedy up to the last '@' so an unescaped '@' inside a
 * password is hidden too; over-redacting is harmless, leaking is not.
 */
export function redactConnectionString(connectionString: string): string {
  return connectionString
    .replace(/(\/\/[^:/?#@]*:).*@/, '$1***@')
    .replace(/(password=)('[^']*'|[^&\s]*)/gi, '$1***');
}

/** Parses the connection string the way pg will, without connecting. */
export function describeTarget(connectionString: string): PostgresTarget {
  const probe = new pg.Client({ connectionString });
  return {
    host: probe.host,
    port: probe.port,
    database: probe.database ?? '',
    user: probe.user ?? '',
    redacted: redactConnectionString(connectionString),
  };
}

// Node network errors meaning "nobody answered there".
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOENT',
  'EPIPE',
]);

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * True for failures of the connection itself (network, server shutting down,
 * too many connections) as opposed to an error in a statement.
 */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof TroveError) return false;
  const code = codeOf(err);
  if (NETWORK_CODES.has(code)) return true;
  // SQLSTATE class 08 (connection exception), 57P0x (shutdown), 53300 (too many connections).
  if (/^08|^57P0[1-3]$|^53300$/.test(code)) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error/i.test(
    message,
  );
}

/**
 * Turns a failure to connect at start into a TroveError that says what to
 * fix: `invalid_config` when the settings are wrong (credentials, database
 * name, TLS), `unavailable` when the server cannot be reached. Never prints
 * the password.
 */
export function startupError(err: unknown, target: PostgresTarget): TroveError {
  const where = `${target.host}:${target.port}`;
  const url = target.redacted;
  const code = codeOf(err);
  const reason = err instanceof Error ? err.message : String(err);
  const details = { host: target.host, port: target.port, database: target.database };
  const cause = { cause: err };
  if (code === '28P01' || code === '28000' || /password must be a string|SASL/i.test(reason)) {
    return new TroveError(
      'invalid_config',
      `PostgreSQL at ${where} rejected user "${target.user}" (${reason}): fix the user name or password in the database URL ${url}, or the server's pg_hba.conf`,
      details,
      cause,
    );
  }
  if (code === '3D000') {
    return new TroveError(
      'invalid_config',
      `database "${target.database}" does not exist on PostgreSQL at ${where}: create it (createdb ${target.database}) or fix the database name in ${url}`,
      details,
      cause,
    );
  }
  if (/SSL|TLS|certificate/i.test(reason)) {
    return new TroveError(
      'invalid_config',
      `TLS negotiation with PostgreSQL at ${where} failed (${reason}): check the sslmode in ${url} against the server's TLS settings`,
      details,
      cause,
    );
  }
  return new TroveError(
    'unavailable',
    `cannot connect to PostgreSQL at ${where} (${code || reason}): check that the server is running and accepting TCP connections there, that host and port in ${url} are right, and that no firewall blocks the port`,
    details,
    cause,
  );
}
