import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TroveClient } from '../client/api-client.js';
import { loadServerConfig } from '../config.js';
import { startServer } from '../server/serve.js';

/** What a test may set on the server it starts. */
export interface TestServerOptions {
  /** Prefix of the temporary directory's name, to tell runs apart in `tmpdir()`. */
  prefix?: string;
  /** Extra command-line flags (as `trove serve` parses them); `data`, `port` and `host` are set already. */
  flags?: Record<string, string | boolean | undefined>;
  /**
   * Environment the configuration is read from. Empty by default, not
   * `process.env`: a developer's own TROVE_* variables must not change a test.
   */
  env?: Record<string, string | undefined>;
}

/** An embedded `trove serve` on a free loopback port, in its own temporary directory. */
export interface TestServer {
  /** Base URL of the API. */
  url: string;
  /** The server's data directory (`<base>/data`). */
  dataDir: string;
  /** The temporary root: the data directory and whatever the test writes beside it. */
  base: string;
  /** A client of this server. */
  client: TroveClient;
  /** Stops the server, then removes `base` with everything in it. */
  close(): Promise<void>;
}

/**
 * Starts a real server for tests that need one to talk to (client, CLI,
 * retention). Tests of `startServer` itself (locking, restarts, umask) start
 * theirs by hand.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const base = await mkdtemp(join(tmpdir(), options.prefix ?? 'trove-test-'));
  const dataDir = join(base, 'data');
  try {
    const config = loadServerConfig(
      { data: dataDir, port: '0', host: '127.0.0.1', ...options.flags },
      options.env ?? {},
    );
    const server = await startServer(config);
    return {
      url: server.url,
      dataDir,
      base,
      client: new TroveClient({ baseUrl: server.url }),
      close: async () => {
        try {
          await server.close();
        } finally {
          await rm(base, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    await rm(base, { recursive: true, force: true });
    throw err;
  }
}
