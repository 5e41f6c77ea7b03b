import { lstatSync, type Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { entryPathProblem } from '../core/paths.js';
import { TroveError } from '../errors.js';
import { IGNORE_FILE, IgnoreRules } from './ignore.js';

/** A regular file found by the walk, with the stat fields the stat cache compares. */
export interface WalkFile {
  /** Entry kind. */
  type: 'file';
  /** Relative POSIX path. */
  path: string;
  /** Absolute path on disk. */
  abs: string;
  /** Size in bytes. */
  size: number;
  /** Owner-executable bit. */
  executable: boolean;
  /** Modification time in ms. */
  mtimeMs: number;
  /** Status-change time in ms. */
  ctimeMs: number;
  /** Inode number. */
  ino: number;
}

/** A directory found by the walk. */
export interface WalkDir {
  /** Entry kind. */
  type: 'dir';
  /** Relative POSIX path. */
  path: string;
}

/** A symbolic link found by the walk (never followed). */
export interface WalkSymlink {
  /** Entry kind. */
  type: 'symlink';
  /** Relative POSIX path. */
  path: string;
  /** The link target exactly as readlink returned it. */
  target: string;
}

/** One entry of a walked tree. */
export type WalkEntry = WalkFile | WalkDir | WalkSymlink;

/** Options of walk. */
export interface WalkOptions {
  /** Extra gitignore-syntax patterns, relative to the root; they win over `.troveignore` files. */
  ignore?: readonly string[];
  /** Called for skipped entries (sockets, FIFOs, devices, vanished files). */
  onWarning?: (message: string) => void;
}

/** Sibling keys: a directory appears twice, as itself and as "name/" where its subtree sorts. */
interface Item {
  /** Sort key among siblings (UTF-8 byte order of the key). */
  key: Buffer;
  /** Tree path. */
  path: string;
  /** lstat result. */
  stat: Stats;
  /** True for the marker that expands a directory's children. */
  expand: boolean;
}

interface Frame {
  items: Item[];
  next: number;
  rules: IgnoreRules;
}

/**
 * Walks a tree iteratively and yields its entries in comparePaths order
 * (UTF-8 byte order of full paths), skipping ignored entries and never
 * descending into ignored directories or following symlinks.
 */
export async function* walk(root: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const rootStat = await lstat(root).catch((err: NodeJS.ErrnoException) => {
    throw new TroveError('invalid_request', `cannot read ${root}: ${err.code ?? err.message}`);
  });
  if (!rootStat.isDirectory())
    throw new TroveError('invalid_request', `${root} is not a directory`);
  const warn = options.onWarning ?? (() => {});
  const base = IgnoreRules.root(options.ignore ?? []);
  const stack: Frame[] = [await expand(root, '', base, warn)];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const item = frame.items[frame.next++];
    if (item === undefined) {
      stack.pop();
      continue;
    }
    const abs = join(root, item.path);
    if (item.expand) {
      stack.push(await expand(abs, item.path, frame.rules, warn));
      continue;
    }
    const st = item.stat;
    if (st.isDirectory()) {
      yield { type: 'dir', path: item.path };
    } else if (st.isFile()) {
      yield {
        type: 'file',
        path: item.path,
        abs,
        size: st.size,
        executable: (st.mode & 0o100) !== 0,
        mtimeMs: st.mtimeMs,
        ctimeMs: st.ctimeMs,
        ino: st.ino,
      };
    } else if (st.isSymbolicLink()) {
      const raw = await readlink(abs, { encoding: 'buffer' });
      const target = raw.toString('utf8');
      if (!Buffer.from(target, 'utf8').equals(raw)) {
        throw new TroveError(
          'invalid_request',
          `symlink ${JSON.stringify(item.path)} has a target that is not valid UTF-8`,
          { path: item.path },
        );
      }
      yield { type: 'symlink', path: item.path, target };
    }
  }
}

/** Reads one directory: its ignore file, its children's stats, sorted sibling items. */
async function expand(
  abs: string,
  dir: string,
  parentRules: IgnoreRules,
  warn: (message: string) => void,
): Promise<Frame> {
  const names = await readdir(abs, { encoding: 'buffer' });
  const candidates: { name: string; raw: Buffer; path: string; stat: Stats | null }[] = [];
  for (const raw of names) {
    const name = raw.toString('utf8');
    const path = dir === '' ? name : `${dir}/${name}`;
    if (!Buffer.from(name, 'utf8').equals(raw)) {
      throw new TroveError(
        'invalid_request',
        `file name ${JSON.stringify(join(abs, name))} is not valid UTF-8; rename it or add it to ${IGNORE_FILE}`,
        { path },
      );
    }
    candidates.push({ name, raw, path, stat: null });
  }
  // Synchronous lstat: a few microseconds each, where an awaited call costs a
  // threadpool round trip; the event loop still turns once per directory.
  for (const c of candidates) {
    c.stat = lstatOrNull(join(abs, c.name));
  }
  let rules = parentRules;
  const ignoreFile = candidates.find((c) => c.name === IGNORE_FILE && c.stat?.isFile());
  if (ignoreFile) {
    rules = parentRules.child(
      dir,
      await readFile(join(abs, IGNORE_FILE), 'utf8').catch(() => null),
    );
  }
  const items: Item[] = [];
  for (const c of candidates) {
    const st = c.stat;
    if (!st) {
      warn(`skipping ${c.path}: it vanished during the walk`);
      continue;
    }
    const isDir = st.isDirectory();
    if (rules.ignores(c.path, isDir)) continue;
    if (!isDir && !st.isFile() && !st.isSymbolicLink()) {
      warn(`skipping ${c.path}: not a regular file, directory or symlink`);
      continue;
    }
    const problem = entryPathProblem(c.path);
    if (problem !== null) {
      throw new TroveError(
        'invalid_request',
        `cannot store ${JSON.stringify(c.path)}: ${problem}`,
        {
          path: c.path,
        },
      );
    }
    items.push({ key: c.raw, path: c.path, stat: st, expand: false });
    if (isDir) {
      items.push({ key: Buffer.concat([c.raw, SLASH]), path: c.path, stat: st, expand: true });
    }
  }
  items.sort((a, b) => Buffer.compare(a.key, b.key));
  return { items, next: 0, rules };
}

const SLASH = Buffer.from('/');

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}
