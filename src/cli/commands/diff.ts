import { fetchManifest } from '../../client/pull/manifest.js';
import { diffManifests } from '../../core/diff.js';
import { CLIENT_OPTIONS, defineCommand } from '../command.js';
import { loadClientConfig, makeClient } from '../options.js';
import { parseStorageRef } from './ref.js';

/** Result of `trove diff`. */
export interface DiffResult {
  /** Full id of the first version. */
  from: string;
  /** Full id of the second version. */
  to: string;
  /** Paths only in the second version. */
  added: string[];
  /** Paths only in the first version. */
  removed: string[];
  /** Paths in both whose type, content, mode or target differ. */
  changed: string[];
}

/** `trove diff STORAGE@A STORAGE@B`: paths added, removed and changed between two versions. */
export const diffCommand = defineCommand<DiffResult>({
  name: 'diff',
  summary: 'compare two versions',
  usage: 'trove diff STORAGE@A STORAGE@B [--json]',
  help: `A and B are latest, version ids or unique prefixes; the storages may differ.
Options:
  --server URL  trove server (default $TROVE_URL or http://127.0.0.1:7070)
  --json        print { from, to, added, removed, changed } as one JSON object`,
  options: { ...CLIENT_OPTIONS },
  positionals: { required: ['STORAGE@A', 'STORAGE@B'] },
  async run({ values, positionals }, { io }) {
    const a = parseStorageRef('diff', positionals[0]!);
    const b = parseStorageRef('diff', positionals[1]!);
    const client = makeClient(loadClientConfig(values, io.env));
    const [va, vb] = await Promise.all([
      client.getVersion(a.storage, a.ref),
      client.getVersion(b.storage, b.ref),
    ]);
    const [ma, mb] = await Promise.all([fetchManifest(client, va), fetchManifest(client, vb)]);
    return { from: va.id, to: vb.id, ...diffManifests(ma.entries, mb.entries) };
  },
  text(r) {
    const lines = [
      ...r.added.map((p) => `+ ${p}`),
      ...r.removed.map((p) => `- ${p}`),
      ...r.changed.map((p) => `~ ${p}`),
    ];
    const summary = `${r.added.length} added, ${r.removed.length} removed, ${r.changed.length} changed`;
    return [...lines, summary].join('\n');
  },
});
