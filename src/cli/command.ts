import { type ParseArgsConfig, parseArgs } from 'node:util';
import { TroveError } from '../errors.js';
import type { CliIo } from './io.js';

/** Option definitions in node:util parseArgs form. */
export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Parsed option values. */
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** A command's parsed arguments. */
export interface ParsedArgs {
  /** Option values by long name. */
  values: Values;
  /** Positional arguments (count already checked). */
  positionals: string[];
}

/** What every command run receives. */
export interface CommandContext {
  /** Streams and environment. */
  io: CliIo;
  /** True with --json: no progress bar, one JSON object on stdout. */
  json: boolean;
}

/** One CLI command. */
export interface Command<R> {
  /** Name typed after `trove`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Synopsis, e.g. `trove log STORAGE [--limit N] [--json]`. */
  usage: string;
  /** Help text after the synopsis (options, examples). */
  help: string;
  /** Accepted options (--help is added for every command). */
  options: OptionsConfig;
  /** Names of required, then optional, positional arguments. */
  positionals: { required: string[]; optional?: string[] };
  /** Does the work; throws TroveError on failure. */
  run(args: ParsedArgs, ctx: CommandContext): Promise<R>;
  /** Human output for the result (printed on stdout without --json). */
  text(result: R): string;
}

/** Erases the result type so commands of different types share a table. */
export function defineCommand<R>(command: Command<R>): Command<unknown> {
  return command as Command<unknown>;
}

/** A usage error: exit code 2 through invalid_request. */
export function usageError(command: string, message: string): TroveError {
  const where = command === '' ? 'trove --help' : `trove ${command} --help`;
  return new TroveError('invalid_request', message, { usage: where });
}

/** Parses a command's arguments; returns null when --help was asked. */
export function parseCommandArgs(command: Command<unknown>, argv: string[]): ParsedArgs | null {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw usageError(command.name, (err as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
  if (parsed.values.help === true) return null;
  const { required, optional = [] } = command.positionals;
  if (parsed.positionals.length < required.length) {
    const missing = required.slice(parsed.positionals.length).join(' ');
    throw usageError(command.name, `missing ${missing} (usage: ${command.usage})`);
  }
  const extra = parsed.positionals[required.length + optional.length];
  if (extra !== undefined) {
    throw usageError(command.name, `unexpected argument ${JSON.stringify(extra)}`);
  }
  return parsed;
}

/** A string option's value, or undefined. */
export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string option's values. */
export function strs(values: Values, name: string): string[] {
  const v = values[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

/** A boolean flag. */
export function flag(values: Values, name: string): boolean {
  return values[name] === true;
}

/** A positive integer option, or the fallback. */
export function intOption(command: string, values: Values, name: string, fallback: number): number {
  const v = str(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
    throw usageError(command, `--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Options every client command accepts. */
export const CLIENT_OPTIONS: OptionsConfig = {
  server: { type: 'string' },
  json: { type: 'boolean' },
};
