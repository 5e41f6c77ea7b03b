import { type PullResult, pull } from '../../client/pull/pull.js';
import type { ArchiveFormat } from '../../core/types.js';
import { CLIENT_OPTIONS, defineCommand, flag, str, usageError } from '../command.js';
import { formatBytes, formatDuration, plural, shortId } from '../io.js';
import { loadClientConfig, makeClient } from '../options.js';
import { ProgressBar } from '../progress.js';
import { parseStorageRef } from './ref.js';

const FORMATS: readonly ArchiveFormat[] = ['tar.gz', 'tar.zst'];

/** `trove pull STORAGE[@REF] DIR`: replaces DIR with a version's tree. */
export const pullCommand = defineCommand<PullResult>({
  name: 'pull',
  summary: 'replace a directory with a version of a storage',
  usage: 'trove pull STORAGE[@REF] DIR [--format tar.gz|tar.zst] [--no-archive] [--json]',
  help: `REF is latest (default), a version id or a unique id prefix.
Options:
  --format F      preferred archive format: tar.zst (default) or tar.gz
  --no-archive    never download the archive; fetch only missing chunks from packs
  --server URL    trove server (default $TROVE_URL or http://127.0.0.1:7070)
  --json          print the result as one JSON object`,
  options: {
    ...CLIENT_OPTIONS,
    format: { type: 'string' },
    'no-archive': { type: 'boolean' },
  },
  positionals: { required: ['STORAGE[@REF]', 'DIR'] },
  async run({ values, positionals }, { io, json }) {
    const { storage, ref } = parseStorageRef('pull', positionals[0]!);
    const format = str(values, 'format');
    if (format !== undefined && !FORMATS.includes(format as ArchiveFormat)) {
      throw usageError('pull', `--format must be tar.gz or tar.zst, got ${JSON.stringify(format)}`);
    }
    const config = loadClientConfig(values, io.env);
    const bar = new ProgressBar(io.stderr, !json);
    try {
      return await pull({
        client: makeClient(config),
        storage,
        ref,
        target: positionals[1]!,
        cacheDir: config.cacheDir,
        ...(format !== undefined ? { format: format as ArchiveFormat } : {}),
        ...(flag(values, 'no-archive') ? { archive: false } : {}),
        onProgress: (p) => {
          if (p.phase === 'done') return;
          bar.update(p.phase, p.bytesWritten, p.totalBytes, `${formatBytes(p.bytesDownloaded)} in`);
        },
      });
    } finally {
      bar.clear();
    }
  },
  text(r) {
    return `pulled ${r.storage}@${shortId(r.version)}: ${plural(r.files, 'file')}, ${formatBytes(r.size)}, downloaded ${formatBytes(r.bytesDownloaded)} (${r.source}), ${formatDuration(r.durationMs)}`;
  },
});
