import { writeFileSync } from 'node:fs';

/**
 * Loaded into measured node children with `node --import`: records the
 * process's peak RSS (KiB, from getrusage) and CPU time when it exits. Sampling
 * /proc/<pid>/status from outside misses short peaks and races with exit;
 * this is exact and needs no external tool.
 */
const target = process.env.TROVE_BENCH_RSS_FILE;
if (target !== undefined && target !== '') {
  process.on('exit', () => {
    try {
      // "peakRssKiB userMs systemMs": CPU time is steadier than wall time on a busy machine.
      const u = process.resourceUsage();
      writeFileSync(target, `${u.maxRSS} ${u.userCPUTime / 1000} ${u.systemCPUTime / 1000}`);
    } catch {
      // Never change the measured process's outcome.
    }
  });
}
