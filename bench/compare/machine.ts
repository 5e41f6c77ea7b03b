import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { ToolName } from './env.js';

/**
 * Installs the peers when missing (Debian packages, as root) and records
 * the machine and tool versions the report prints.
 */

const PACKAGES: Partial<Record<ToolName, { bin: string; pkg: string }>> = {
  restic: { bin: 'restic', pkg: 'restic' },
  borg: { bin: 'borg', pkg: 'borgbackup' },
};

function has(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs restic / borg with apt-get when they are wanted and missing. */
export function ensureTools(tools: readonly ToolName[], say: (m: string) => void): void {
  const missing = tools.flatMap((t) => {
    const p = PACKAGES[t];
    return p !== undefined && !has(p.bin) ? [p.pkg] : [];
  });
  if (missing.length === 0) return;
  say(`installing ${missing.join(', ')} with apt-get`);
  const run = (args: string[]): void => void execFileSync('apt-get', args, { stdio: 'inherit' });
  run(['update', '-qq']);
  run(['install', '-y', '-qq', ...missing]);
}

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return 'n/a';
  }
}

/** Where the bench ran. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGiB: number;
  kernel: string;
  node: string;
  load: number[];
  versions: Record<string, string>;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    ramGiB: Math.round(totalmem() / 2 ** 30),
    kernel: `Linux ${release()}`,
    node: process.version,
    load: loadavg().map((x) => Number(x.toFixed(2))),
    versions: {
      restic: firstLine('restic', ['version']),
      borg: firstLine('borg', ['--version']),
      git: firstLine('git', ['--version']),
      tar: firstLine('tar', ['--version']),
      gzip: firstLine('gzip', ['--version']),
    },
  };
}
