import type { Prng } from './prng.js';

/**
 * Pseudo source code. Real workspaces compress 3–5× because identifiers and
 * keywords repeat; drawing tokens from a fixed vocabulary through a handful
 * of line templates reproduces that without shipping a corpus.
 */

const SYLLABLES = [
  'load',
  'save',
  'item',
  'user',
  'cache',
  'node',
  'tree',
  'page',
  'file',
  'chunk',
  'pack',
  'index',
  'plan',
  'state',
  'event',
  'queue',
  'task',
  'retry',
  'parse',
  'emit',
  'read',
  'write',
  'token',
  'scope',
  'lease',
  'shard',
  'digest',
  'range',
  'frame',
  'model',
  'agent',
  'step',
];
const TYPES = ['number', 'string', 'boolean', 'Buffer', 'Uint8Array', 'Promise<void>', 'Item[]'];
const WORDS = [
  'the',
  'value',
  'is',
  'cached',
  'until',
  'next',
  'flush',
  'because',
  'callers',
  'retry',
  'on',
  'conflict',
  'and',
  'expect',
  'a',
  'stable',
  'order',
  'so',
  'we',
  'sort',
  'here',
  'first',
];

/** A vocabulary of identifiers shared by the whole tree (as in a real codebase). */
export function makeVocabulary(rng: Prng, size: number): string[] {
  const out = new Set<string>();
  while (out.size < size) {
    const n = rng.int(1, 3);
    let id = rng.pick(SYLLABLES);
    for (let i = 1; i < n; i++) {
      const s = rng.pick(SYLLABLES);
      id += s[0]!.toUpperCase() + s.slice(1);
    }
    out.add(id);
  }
  return [...out];
}

function comment(rng: Prng): string {
  const n = rng.int(4, 12);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(rng.pick(WORDS));
  return `// ${words.join(' ')}`;
}

/** One line of code at the given indentation depth. */
export function codeLine(rng: Prng, vocab: readonly string[], depth: number): string {
  const pad = '  '.repeat(depth);
  const a = rng.pick(vocab);
  const b = rng.pick(vocab);
  const c = rng.pick(vocab);
  switch (rng.int(0, 10)) {
    case 0:
      return `${pad}export function ${a}(${b}: ${rng.pick(TYPES)}, ${c}: ${rng.pick(TYPES)}): ${rng.pick(TYPES)} {`;
    case 1:
      return `${pad}const ${a} = await ${b}.${c}(${rng.int(0, 999)});`;
    case 2:
      return `${pad}if (${a}.length > ${rng.int(1, 64)}) {`;
    case 3:
      return `${pad}return ${a}(${b}, ${c});`;
    case 4:
      return `${pad}${comment(rng)}`;
    case 5:
      return `${pad}import { ${a}, ${b} } from './${c}.js';`;
    case 6:
      return `${pad}}`;
    case 7:
      return `${pad}throw new Error('${a} failed: ' + ${b});`;
    case 8:
      return `${pad}${a}.${b} = ${c} ?? ${rng.int(0, 65535)};`;
    case 9:
      // Ids and hashes: the incompressible part of real code (keeps gzip near 4×).
      return `${pad}const ${a}Id = '${rng.next().toString(16)}${rng.next().toString(36)}';`;
    default:
      return '';
  }
}

/** A file of roughly `bytes` bytes of pseudo code. */
export function codeText(rng: Prng, vocab: readonly string[], bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  let depth = 0;
  while (size < bytes) {
    const line = codeLine(rng, vocab, depth);
    if (line.endsWith('{')) depth = Math.min(depth + 1, 4);
    else if (line.trim() === '}') depth = Math.max(depth - 1, 0);
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** Log lines (timestamps, levels, repeated messages): append-only agent output. */
export function logText(rng: Prng, vocab: readonly string[], bytes: number, t0: number): string {
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
  const lines: string[] = [];
  let size = 0;
  let t = t0;
  while (size < bytes) {
    t += rng.int(1, 5000);
    const line = `${new Date(t).toISOString()} ${rng.pick(levels)} ${rng.pick(vocab)}: ${comment(rng).slice(3)} id=${rng.next().toString(16)}`;
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}
