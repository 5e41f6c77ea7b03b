import { writeFileSync } from 'node:fs';

/**
 * Loaded into measured node children with `node --import`: records the
 * process's peak RSS (KiB, from getrusage) when it exits. Sampling
 * /proc/<pid>/status from outside misses short peaks and races with exit;
 * this is exact and needs no external tool.
 */
const target = process.env.TROVE_BENCH_RSS_FILE;
if (target !== undefined && target !== '') {
  process.on('exit', () => {
    try {
      writeFileSync(target, String(process.resourceUsage().maxRSS));
    } catch {
      // Never change the measured process's outcome.
    }
  });
}
