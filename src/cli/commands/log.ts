import type { ArchiveSummary, VersionSummary } from '../../api/schemas.js';
import { CLIENT_OPTIONS, defineCommand, intOption } from '../command.js';
import { formatBytes, plural, shortId } from '../io.js';
import { loadClientConfig, makeClient } from '../options.js';

/** Result of `trove log`. */
export interface LogResult {
  /** The storage listed. */
  storage: string;
  /** Versions, newest first, with their archive status. */
  versions: VersionSummary[];
}

/** `trove log STORAGE`: the storage's versions, newest first. */
export const logCommand = defineCommand<LogResult>({
  name: 'log',
  summary: "list a storage's versions, newest first",
  usage: 'trove log STORAGE [--limit N] [--json]',
  help: `Options:
  --limit N     show at most N versions (default 20)
  --server URL  trove server (default $TROVE_URL or http://127.0.0.1:7070)
  --json        print { storage, versions } as one JSON object`,
  options: { ...CLIENT_OPTIONS, limit: { type: 'string', short: 'n' } },
  positionals: { required: ['STORAGE'] },
  async run({ values, positionals }, { io }) {
    const storage = positionals[0]!;
    const limit = intOption('log', values, 'limit', 20);
    const client = makeClient(loadClientConfig(values, io.env));
    const versions: VersionSummary[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listVersions(storage, {
        ...(cursor !== undefined ? { cursor } : {}),
        limit: Math.min(1000, limit - versions.length),
      });
      versions.push(...page.versions);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && versions.length < limit);
    return { storage, versions: versions.slice(0, limit) };
  },
  text({ storage, versions }) {
    if (versions.length === 0) return `${storage} has no versions`;
    return versions
      .map((v) =>
        [
          shortId(v.id),
          `#${v.seq}`,
          v.createdAt.replace('T', ' ').slice(0, 19),
          plural(v.files, 'file'),
          formatBytes(v.size),
          archiveStatus(v.archives),
          v.message.split('\n')[0] ?? '',
        ]
          .join('  ')
          .trimEnd(),
      )
      .join('\n');
  },
});

/** "tar.zst ready", "tar.zst building", or "no archive". */
function archiveStatus(archives: ArchiveSummary[]): string {
  if (archives.length === 0) return 'no archive';
  return archives.map((a) => `${a.format} ${a.state}`).join(', ');
}
