import { TroveClient } from '../client/api-client.js';
import { defaultCacheDir } from '../client/stat-cache.js';
import { TroveError } from '../errors.js';
import { str, type Values } from './command.js';

/** Default API URL (what `trove serve` listens on). */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:7070';

/** The client configuration, read once per run. */
export interface ClientConfig {
  /** API base URL: --server, else TROVE_URL, else DEFAULT_SERVER_URL. */
  server: string;
  /** Bearer token from TROVE_TOKEN. */
  token: string | undefined;
  /** Stat cache directory (TROVE_CACHE_DIR, XDG_CACHE_HOME/trove, ~/.cache/trove). */
  cacheDir: string;
}

/** Reads the client configuration from flags and the environment; throws invalid_config. */
export function loadClientConfig(values: Values, env: NodeJS.ProcessEnv): ClientConfig {
  const fromFlag = str(values, 'server');
  const server = fromFlag ?? (env.TROVE_URL || DEFAULT_SERVER_URL);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new TroveError(
      'invalid_config',
      `invalid server URL ${JSON.stringify(server)} (from ${fromFlag ? '--server' : 'TROVE_URL'})`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TroveError('invalid_config', `server URL must be http or https, got ${server}`);
  }
  return {
    server: server.replace(/\/+$/, ''),
    token: env.TROVE_TOKEN || undefined,
    cacheDir: defaultCacheDir(env),
  };
}

/** A TroveClient for the configuration. */
export function makeClient(config: ClientConfig): TroveClient {
  return new TroveClient({
    baseUrl: config.server,
    ...(config.token ? { token: config.token } : {}),
  });
}
