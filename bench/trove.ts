import { check, measure } from './proc.js';

/**
 * The trove CLI as the bench drives it: each command a separate process,
 * exactly as an agent would run it, timed from spawn to exit (so node's
 * start-up is counted, as it is for tar).
 */

/** The `--json` output of a command plus what the bench measured around it. */
export interface TroveRun<T> {
  out: T;
  ms: number;
  rssKiB: number | null;
  cpuMs: number | null;
}

/** Fields of `trove push --json` the bench reads. */
export interface PushOut {
  version: string;
  created: boolean;
  bytesUploaded: number;
  chunksUploaded: number;
  packsUploaded: number;
  filesHashed: number;
  requests: number;
  durationMs: number;
}

/** Fields of `trove pull --json` the bench reads. */
export interface PullOut {
  version: string;
  source: 'archive' | 'packs';
  bytesDownloaded: number;
  files: number;
  chunksFetched: number;
  chunksReused: number;
  requests: number;
  durationMs: number;
}

interface ArchiveInfo {
  format: string;
  state: string;
  size: number | null;
}

/** Parses the JSON document a command printed (the last `{...}` line if there is chatter). */
function parseJson<T>(stdout: string): T {
  const text = stdout.trim();
  try {
    return JSON.parse(text) as T;
  } catch {
    const line = text
      .split('\n')
      .reverse()
      .find((l) => l.trim().startsWith('{'));
    if (line === undefined) throw new Error(`no JSON in output: ${text.slice(0, 500)}`);
    return JSON.parse(line) as T;
  }
}

/** Drives one trove server through its CLI. */
export class TroveCli {
  constructor(
    private readonly bin: string,
    private readonly server: string,
    private readonly cacheDir: string,
  ) {}

  private async run<T>(args: string[]): Promise<TroveRun<T>> {
    const env = { TROVE_URL: this.server, TROVE_CACHE_DIR: this.cacheDir };
    const m = check(`trove ${args[0]}`, await measure(this.bin, args, { node: true, env }));
    return { out: parseJson<T>(m.stdout), ms: m.ms, rssKiB: m.rssKiB, cpuMs: m.cpuMs };
  }

  push(dir: string, storage: string, message: string): Promise<TroveRun<PushOut>> {
    return this.run(['push', dir, '--storage', storage, '-m', message, '--json']);
  }

  pull(ref: string, dir: string, extra: string[] = []): Promise<TroveRun<PullOut>> {
    return this.run(['pull', ref, dir, '--json', ...extra]);
  }

  async archives(storage: string, version: string): Promise<ArchiveInfo[]> {
    const log = await this.run<{ versions: { id: string; archives: ArchiveInfo[] }[] }>([
      'log',
      storage,
      '--json',
    ]);
    return log.out.versions.find((v) => v.id === version)?.archives ?? [];
  }

  /**
   * Milliseconds until the version's archive is ready. Polls the HTTP API
   * (cheap, ~20 ms resolution); falls back to `trove log --json`, whose
   * node start-up per poll would blur the measurement by ~100 ms.
   */
  async waitArchive(storage: string, version: string, format: string): Promise<number> {
    const start = performance.now();
    const deadline = Date.now() + 15 * 60_000;
    let useApi = true;
    while (Date.now() < deadline) {
      let archives: ArchiveInfo[] = [];
      if (useApi) {
        const res = await fetch(`${this.server}/v1/storages/${storage}/versions/${version}`).catch(
          () => null,
        );
        if (res?.ok === true)
          archives = ((await res.json()) as { archives: ArchiveInfo[] }).archives;
        else useApi = false;
      }
      if (!useApi) archives = await this.archives(storage, version);
      const a = archives.find((x) => x.format === format);
      if (a?.state === 'ready') return performance.now() - start;
      if (a?.state === 'failed') throw new Error(`archive ${format} of ${version} failed`);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`archive ${format} of ${version} not ready after 15 minutes`);
  }
}
