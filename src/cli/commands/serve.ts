import { defineCommand, flag, str } from '../command.js';

/** Result of `trove serve` once it has stopped. */
export interface ServeResult {
  /** The URL it listened on. */
  url: string;
  /** Its data directory. */
  dataDir: string;
}

/** `trove serve`: API and worker in one process, embedded defaults. */
export const serveCommand = defineCommand<ServeResult>({
  name: 'serve',
  summary: 'run the trove server (API + worker, embedded database and blob store)',
  usage: 'trove serve [--data DIR] [--host H] [--port P] [--no-worker]',
  help: `Options:
  --data DIR     data directory (default $TROVE_DATA_DIR or ./.trove)
  --host H       interface to bind (default $TROVE_HOST or 127.0.0.1)
  --port P       TCP port, 0 for any free one (default $TROVE_PORT or 7070)
  --no-worker    do not build archives in this process
Stops cleanly on SIGINT or SIGTERM.`,
  options: {
    data: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'no-worker': { type: 'boolean' },
  },
  positionals: { required: [] },
  async run({ values }, { io }) {
    const flags: Record<string, string | boolean> = {};
    for (const name of ['data', 'host', 'port']) {
      const v = str(values, name);
      if (v !== undefined) flags[name] = v;
    }
    if (flag(values, 'no-worker')) flags['no-worker'] = true;
    // Loaded on demand so client commands never pay for the database and server modules.
    const { loadServerConfig } = await import('../../config.js');
    const { startServer } = await import('../../server/serve.js');
    const config = loadServerConfig(flags, io.env);
    const server = await startServer(config);
    io.stdout.write(`trove listening on ${server.url} (data ${config.dataDir})\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
    return { url: server.url, dataDir: config.dataDir };
  },
  text() {
    return 'trove stopped';
  },
});
