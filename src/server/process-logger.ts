import type { ServerConfig } from '../config.js';
import { createLogger, type Logger } from '../observability/logger.js';

/**
 * The logger of a server or worker process: JSON lines on stderr for log
 * collectors, or readable lines when a person is watching a terminal
 * (`TROVE_LOG_FORMAT=auto`, the default).
 */
export function processLogger(
  config: Pick<ServerConfig, 'logLevel' | 'logFormat'>,
  role = 'serve',
): Logger {
  const format =
    config.logFormat === 'auto' ? (process.stderr.isTTY ? 'pretty' : 'json') : config.logFormat;
  return createLogger({
    level: config.logLevel,
    format,
    stream: process.stderr,
    base: { role, pid: process.pid },
  });
}
