import { Writable } from 'node:stream';
import { isSecretKey, REDACTED, redactString, redactValue } from './redact.js';

/** Severity of a log event, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured context of a log event (values are redacted before writing). */
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys every event has; fields cannot overwrite them. */
const RESERVED = new Set(['time', 'level', 'msg']);

/** A structured logger; never throws, whatever it is given. */
export interface Logger {
  /** Detail for debugging: off in production by default. */
  debug(msg: string, fields?: LogFields): void;
  /** Normal operation worth a line (one per request, one per job). */
  info(msg: string, fields?: LogFields): void;
  /** Something went wrong but was handled (a retried job, a refused request). */
  warn(msg: string, fields?: LogFields): void;
  /** A failure an operator should look at. */
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every event it writes. */
  child(fields: LogFields): Logger;
  /** Whether events at `level` are written (to skip building costly fields). */
  enabled(level: LogLevel): boolean;
}

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** Lowest level written (default 'info'). */
  level?: LogLevel;
  /** 'json' (one object per line, for collectors) or 'pretty' (for a terminal). Default 'json'. */
  format?: 'json' | 'pretty';
  /** Where lines go (default process.stderr, so stdout stays free for command output). */
  stream?: NodeJS.WritableStream;
  /** Fields added to every event (service name, process role, ...). */
  base?: LogFields;
}

/** True when `value` is one of the four level names (for validating flags and env). */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

/**
 * A logger writing one line per event. JSON lines look like
 * `{"time":"2026-…Z","level":"info","msg":"request",…fields}`; secrets are
 * redacted (see redact.ts) and errors serialized, with stacks on error
 * events or when the level is debug.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const stream = options.stream ?? process.stderr;
  const pretty = options.format === 'pretty';
  const color = pretty && (stream as { isTTY?: boolean }).isTTY === true;
  const debugStacks = min <= RANK.debug;

  const write = (level: LogLevel, msg: string, bound: LogFields, fields?: LogFields) => {
    if (RANK[level] < min) return;
    try {
      const withStack = debugStacks || level === 'error';
      const event: LogFields = { time: new Date().toISOString(), level, msg: redactString(msg) };
      for (const source of [bound, fields ?? {}]) {
        for (const [key, value] of Object.entries(source)) {
          if (RESERVED.has(key)) continue;
          event[key] = isSecretKey(key) ? REDACTED : redactValue(value, withStack);
        }
      }
      stream.write(`${pretty ? prettyLine(event, color) : JSON.stringify(event)}\n`);
    } catch {
      // Logging must never take the process down (EPIPE, a throwing getter, ...).
    }
  };

  const make = (bound: LogFields): Logger => ({
    debug: (msg, fields) => write('debug', msg, bound, fields),
    info: (msg, fields) => write('info', msg, bound, fields),
    warn: (msg, fields) => write('warn', msg, bound, fields),
    error: (msg, fields) => write('error', msg, bound, fields),
    child: (fields) => make({ ...bound, ...fields }),
    enabled: (level) => RANK[level] >= min,
  });
  return make({ ...options.base });
}

/** A logger whose JSON lines are kept in memory (for tests and diagnostics). */
export interface CapturedLogs {
  /** Writes JSON lines into `lines`. */
  logger: Logger;
  /** Every line written so far, raw. */
  lines: string[];
  /** Every event written so far, parsed. */
  events(): Record<string, unknown>[];
}

/** A JSON logger at `level` (default debug) that writes into memory. */
export function captureLogs(
  level: LogLevel = 'debug',
  base?: Record<string, unknown>,
): CapturedLogs {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  const logger = createLogger({ level, format: 'json', stream, ...(base ? { base } : {}) });
  return {
    logger,
    lines,
    events: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const COLORS: Record<LogLevel, string> = {
  debug: '\x1b[90m',
  info: '\x1b[36m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
};

/** `12:00:00.123 INFO  request method=GET status=200 …` (and the stack below, if any). */
function prettyLine(event: LogFields, color: boolean): string {
  const { time, level, msg, ...rest } = event as { time: string; level: LogLevel; msg: string };
  const tag = level.toUpperCase().padEnd(5);
  const head = `${time.slice(11, 23)} ${color ? `${COLORS[level]}${tag}\x1b[0m` : tag} ${msg}`;
  const stacks: string[] = [];
  const pairs = Object.entries(rest).map(([key, value]) => {
    if (value !== null && typeof value === 'object' && 'stack' in value) {
      const { stack, ...error } = value as { stack: unknown };
      stacks.push(String(stack));
      return `${key}=${JSON.stringify(error)}`;
    }
    return `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
  });
  return [head, ...pairs].join(' ') + stacks.map((s) => `\n  ${s}`).join('');
}
