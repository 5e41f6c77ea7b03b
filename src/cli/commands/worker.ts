import { defineCommand, str } from '../command.js';
import { waitForStopSignal } from './serve.js';

/** Result of `trove worker` once it has stopped. */
export interface WorkerResult {
  /** The URL its health and metrics endpoints listened on, if any. */
  url: string | undefined;
}

/** `trove worker`: builds archives from the job queue in PostgreSQL; no API. */
export const workerCommand = defineCommand<WorkerResult>({
  name: 'worker',
  summary: 'run a materialize worker against PostgreSQL (and S3); scale by running more',
  usage: 'trove worker [--concurrency N] [--port P] [--host H] [--data DIR]',
  help: `Needs TROVE_DATABASE_URL (see docs/configuration.md); blobs go to S3 when
TROVE_S3_BUCKET is set, otherwise to DIR/blobs (shared with \`trove serve\`).
Options:
  --concurrency N     archives built at once (default $TROVE_WORKER_CONCURRENCY or 1)
  --port P            serve /healthz, /readyz and /metrics on this port (default: none)
  --host H            interface for those (default $TROVE_HOST or 127.0.0.1)
  --data DIR          data directory for local blobs (default $TROVE_DATA_DIR or ./.trove)
  --database-url URL  PostgreSQL URL (default $TROVE_DATABASE_URL)
  --log-level L       debug, info, warn, error (default $TROVE_LOG_LEVEL or info)
  --log-format F      json, pretty or auto (default $TROVE_LOG_FORMAT or auto)
On SIGINT or SIGTERM running jobs get TROVE_SHUTDOWN_GRACE_SECONDS to finish,
then go back to the queue for another worker.`,
  options: {
    concurrency: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string' },
    'database-url': { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
  },
  positionals: { required: [] },
  async run({ values }, { io }) {
    const flags: Record<string, string> = {};
    for (const name of [
      'concurrency',
      'port',
      'host',
      'data',
      'database-url',
      'log-level',
      'log-format',
    ]) {
      const v = str(values, name);
      if (v !== undefined) flags[name] = v;
    }
    const { loadServerConfig } = await import('../../config.js');
    const { startWorkerProcess } = await import('../../server/worker-process.js');
    const { logProcessWarnings, processLogger } = await import('../../server/process-logger.js');
    const config = loadServerConfig(flags, io.env);
    const logger = processLogger(config, 'worker');
    logProcessWarnings(logger);
    // A second line of defence behind the explicit 0600/0700 modes trove and
    // its PGlite filesystem give every file: anything else this process
    // creates in the data directory is private too (docs/operations.md).
    process.umask(0o077);
    const worker = await startWorkerProcess(config, { listen: flags.port !== undefined, logger });
    io.stdout.write(
      `trove worker running${worker.url ? ` (health and metrics on ${worker.url})` : ''}\n`,
    );
    await waitForStopSignal();
    await worker.close();
    return { url: worker.url };
  },
  text() {
    return 'trove worker stopped';
  },
});
