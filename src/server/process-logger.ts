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

/**
 * Sends Node's process warnings (deprecations, the AWS SDK's Node version
 * notice, ...) through the logger, so a process that logs JSON writes
 * nothing else to stderr. For CLI entry points only: it replaces Node's
 * default printer for the whole process.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    logger.warn(warning.message.split('\n')[0] ?? warning.name, {
      warning: warning.name,
      detail: warning.message,
    });
  });
}
