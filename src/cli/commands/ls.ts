import type { StorageSummary } from '../../api/schemas.js';
import { CLIENT_OPTIONS, defineCommand } from '../command.js';
import { formatCount, shortId } from '../io.js';
import { loadClientConfig, makeClient } from '../options.js';

/** Result of `trove ls`. */
export interface LsResult {
  /** Every storage of the tenant. */
  storages: StorageSummary[];
}

/** `trove ls`: every storage with its head. */
export const lsCommand = defineCommand<LsResult>({
  name: 'ls',
  summary: 'list storages',
  usage: 'trove ls [--json]',
  help: `Options:
  --server URL  trove server (default $TROVE_URL or http://127.0.0.1:7070)
  --json        print { storages } as one JSON object`,
  options: { ...CLIENT_OPTIONS },
  positionals: { required: [] },
  async run({ values }, { io }) {
    const client = makeClient(loadClientConfig(values, io.env));
    const storages: StorageSummary[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listStorages(cursor, 1000);
      storages.push(...page.storages);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return { storages };
  },
  text({ storages }) {
    if (storages.length === 0)
      return 'no storages yet: create one with `trove push DIR --storage NAME`';
    const width = Math.max(4, ...storages.map((s) => s.name.length));
    const rows = storages.map((s) =>
      [
        s.name.padEnd(width),
        shortId(s.head).padEnd(8),
        formatCount(s.entries).padStart(8),
        s.updatedAt.replace('T', ' ').slice(0, 19),
      ].join('  '),
    );
    return [`${'NAME'.padEnd(width)}  HEAD      VERSIONS  UPDATED`, ...rows].join('\n');
  },
});
