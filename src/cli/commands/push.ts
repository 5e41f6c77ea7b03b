import { type PushResult, push } from '../../client/push.js';
import { CLIENT_OPTIONS, defineCommand, flag, str, strs, usageError } from '../command.js';
import { formatBytes, formatCount, formatDuration, plural, shortId } from '../io.js';
import { loadClientConfig, makeClient } from '../options.js';
import { ProgressBar } from '../progress.js';

const FULL_ID = /^[0-9a-f]{64}$/;

/** `trove push DIR --storage NAME`: pushes a directory as a new version. */
export const pushCommand = defineCommand<PushResult>({
  name: 'push',
  summary: 'push a directory as a new version of a storage',
  usage:
    'trove push DIR --storage NAME [-m MSG] [--parent ID | --force] [--ignore PAT]... [--json]',
  help: `Options:
  --storage, -s NAME  storage to push to (created by its first push)
  --message, -m MSG   message recorded with the version
  --parent ID         expected head (full id or unique prefix); default: the current head
  --force             become the new head even if head moved since --parent
  --ignore PAT        extra gitignore-style pattern (repeatable); .troveignore files apply too
  --server URL        trove server (default $TROVE_URL or http://127.0.0.1:7070)
  --json              print the result as one JSON object`,
  options: {
    ...CLIENT_OPTIONS,
    storage: { type: 'string', short: 's' },
    message: { type: 'string', short: 'm' },
    parent: { type: 'string' },
    force: { type: 'boolean' },
    ignore: { type: 'string', multiple: true },
  },
  positionals: { required: ['DIR'] },
  async run({ values, positionals }, { io, json }) {
    const storage = str(values, 'storage');
    if (storage === undefined) throw usageError('push', 'missing --storage NAME');
    const config = loadClientConfig(values, io.env);
    const client = makeClient(config);
    let parent: string | null | undefined;
    const parentRef = str(values, 'parent');
    if (parentRef !== undefined) {
      parent = FULL_ID.test(parentRef)
        ? parentRef
        : (await client.getVersion(storage, parentRef)).id;
    }
    const bar = new ProgressBar(io.stderr, !json);
    try {
      return await push({
        client,
        storage,
        dir: positionals[0]!,
        ...(str(values, 'message') !== undefined ? { message: str(values, 'message') } : {}),
        ...(parent !== undefined ? { parent } : {}),
        force: flag(values, 'force'),
        ignore: strs(values, 'ignore'),
        cacheDir: config.cacheDir,
        onWarning: (m) => {
          bar.clear();
          io.stderr.write(`trove: warning: ${m}\n`);
        },
        onProgress: (p) => {
          if (p.phase === 'scan') bar.update('scan', 0, 0, `${formatCount(p.files)} files`);
          else if (p.phase === 'commit') bar.update('commit', 0, 0, `${p.done}/${p.total} packs`);
          else bar.update(p.phase, p.done, p.total);
        },
      });
    } finally {
      bar.clear();
    }
  },
  text(r) {
    const what = r.created ? 'new' : 'unchanged';
    const upload =
      r.bytesUploaded > 0
        ? `uploaded ${formatBytes(r.bytesUploaded)} (manifest ${formatBytes(r.manifestBytesUploaded)}) in ${plural(r.packsUploaded, 'pack')}`
        : 'uploaded nothing';
    return `pushed ${r.storage}@${shortId(r.version)} (${what}): ${plural(r.files, 'file')}, ${formatBytes(r.size)}, ${upload}, ${formatDuration(r.durationMs)}`;
  },
});
