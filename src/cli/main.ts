import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitCodeOf, type TroveError, toTroveError } from '../errors.js';
import { type Command, type CommandContext, parseCommandArgs, usageError } from './command.js';
import { type CliIo, processIo } from './io.js';

/**
 * The commands by name, each module imported only when its command runs (or
 * for the help list): `trove --version` loads none of them, and the client
 * commands never load `serve`'s and `worker`'s server code.
 */
const COMMANDS: readonly { name: string; load: () => Promise<Command<unknown>> }[] = [
  { name: 'serve', load: async () => (await import('./commands/serve.js')).serveCommand },
  { name: 'worker', load: async () => (await import('./commands/worker.js')).workerCommand },
  { name: 'push', load: async () => (await import('./commands/push.js')).pushCommand },
  { name: 'pull', load: async () => (await import('./commands/pull.js')).pullCommand },
  { name: 'log', load: async () => (await import('./commands/log.js')).logCommand },
  { name: 'diff', load: async () => (await import('./commands/diff.js')).diffCommand },
  { name: 'ls', load: async () => (await import('./commands/ls.js')).lsCommand },
];

/**
 * The CLI: runs one command and returns its exit code. The only place that
 * turns errors into exit codes (through exitCodeOf) and into messages.
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const json = argv.includes('--json');
  let commandName = '';
  try {
    const [first, ...rest] = argv;
    if (first === '--help' || first === '-h' || first === 'help') {
      io.stdout.write(`${await topHelp()}\n`);
      return 0;
    }
    if (first === '--version' || first === '-V') {
      io.stdout.write(`trove ${version()}\n`);
      return 0;
    }
    if (first === undefined) {
      io.stderr.write(`${await topHelp()}\n`);
      return exitCodeOf('invalid_request');
    }
    const entry = COMMANDS.find((c) => c.name === first);
    if (!entry) {
      throw usageError('', `unknown command ${JSON.stringify(first)}`);
    }
    const command = await entry.load();
    commandName = command.name;
    const args = parseCommandArgs(command, rest);
    if (args === null) {
      io.stdout.write(`usage: ${command.usage}\n\n${command.summary}.\n${command.help}\n`);
      return 0;
    }
    const ctx: CommandContext = { io, json };
    const result = await command.run(args, ctx);
    io.stdout.write(json ? `${JSON.stringify(result)}\n` : `${command.text(result)}\n`);
    return 0;
  } catch (err) {
    const e = toTroveError(err);
    if (json) {
      io.stdout.write(
        `${JSON.stringify({ error: { code: e.code, message: e.message, details: e.details ?? {} } })}\n`,
      );
    } else {
      const hint = hintFor(e, commandName);
      io.stderr.write(`trove: ${e.message}\n${hint ? `hint: ${hint}\n` : ''}`);
    }
    return exitCodeOf(e.code);
  }
}

function hintFor(e: TroveError, command: string): string | null {
  switch (e.code) {
    case 'invalid_request':
      return typeof e.details?.usage === 'string' ? `see \`${e.details.usage}\`` : null;
    case 'storage_not_found':
      return 'list storages with `trove ls`; a storage is created by its first push';
    case 'version_not_found':
    case 'ambiguous_version':
      return 'list versions with `trove log STORAGE`';
    case 'head_conflict':
      return command === 'push'
        ? 'someone pushed since; pull the latest version first, or push with --force'
        : null;
    case 'data_dir_locked':
      return 'another `trove serve` uses this data directory; stop it or pass --data';
    case 'internal':
      return 'this is a bug in trove; please report it with the command you ran';
    default:
      return null;
  }
}

async function topHelp(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map((c) => c.load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `trove ${version()}: versioned directory trees in object storage, with deduplication

usage: trove COMMAND [options]

Commands:
${list}

Run \`trove COMMAND --help\` for a command's options.
Client commands talk to --server URL, else $TROVE_URL, else http://127.0.0.1:7070
($TROVE_TOKEN is sent as a bearer token; the stat cache lives in $TROVE_CACHE_DIR,
else $XDG_CACHE_HOME/trove, else ~/.cache/trove).`;
}

let cachedVersion: string | null = null;

/** The package version, from the nearest package.json above this file (src/ or dist/src/). */
function version(): string {
  if (cachedVersion !== null) return cachedVersion;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'trove' && pkg.version) {
        cachedVersion = pkg.version;
        return cachedVersion;
      }
    } catch {
      // keep looking upwards
    }
    dir = dirname(dir);
  }
  cachedVersion = 'unknown';
  return cachedVersion;
}
