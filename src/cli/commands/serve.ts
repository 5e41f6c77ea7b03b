import { defineCommand, flag, str } from '../command.js';

/** Result of `trove serve` once it has stopped. */
export interface ServeResult {
  /** The URL it listened on. */
  url: string;
  /** Its data directory. */
  dataDir: string;
}

const SERVE_FLAGS = [
  'data',
  'host',
  'port',
  'concurrency',
  'database-url',
  'log-level',
  'log-format',
];

/** `trove serve`: the API, plus the worker unless --no-worker. */
export const serveCommand = defineCommand<ServeResult>({
  name: 'serve',
  summary: 'run the trove server (API + worker; embedded database and blob store by default)',
  usage: 'trove serve [--data DIR] [--host H] [--port P] [--no-worker] [--database-url URL]',
  help: `Options:
  --data DIR          data directory (default $TROVE_DATA_DIR or ./.trove)
  --host H            interface to bind (default $TROVE_HOST or 127.0.0.1)
  --port P            TCP port, 0 for any free one (default $TROVE_PORT or 7070)
  --no-worker         do not build archives in this process (run \`trove worker\`)
  --concurrency N     archives the in-process worker builds at once (default 1)
  --database-url URL  PostgreSQL instead of the embedded database ($TROVE_DATABASE_URL)
  --log-level L       debug, info, warn, error (default $TROVE_LOG_LEVEL or info)
  --log-format F      json, pretty or auto (default $TROVE_LOG_FORMAT or auto)
S3 and every other setting come from the environment: docs/configuration.md.
Stops cleanly on SIGINT or SIGTERM.`,
  options: {
    data: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'no-worker': { type: 'boolean' },
    concurrency: { type: 'string' },
    'database-url': { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
  },
  positionals: { required: [] },
  async run({ values }, { io }) {
    const flags: Record<string, string | boolean> = {};
    for (const name of SERVE_FLAGS) {
      const v = str(values, name);
      if (v !== undefined) flags[name] = v;
    }
    if (flag(values, 'no-worker')) flags['no-worker'] = true;
    // Loaded on demand so client commands never pay for the database and server modules.
    const { loadServerConfig } = await import('../../config.js');
    const { startServer } = await import('../../server/serve.js');
    const { logProcessWarnings, processLogger } = await import('../../server/process-logger.js');
    const config = loadServerConfig(flags, io.env);
    const logger = processLogger(config);
    logProcessWarnings(logger);
    // A second line of defence behind the explicit 0600/0700 modes trove and
    // its PGlite filesystem give every file: anything else this process
    // creates in the data directory is private too (docs/operations.md).
    process.umask(0o077);
    const server = await startServer(config, { logger });
    const where = config.databaseUrl === undefined ? `data ${config.dataDir}` : 'PostgreSQL';
    io.stdout.write(`trove listening on ${server.url} (${where})\n`);
    await waitForStopSignal();
    await server.close();
    return { url: server.url, dataDir: config.dataDir };
  },
  text() {
    return 'trove stopped';
  },
});

/** Resolves on the first SIGINT or SIGTERM. */
export function waitForStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
