import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSafeSymlink } from './paths.js';
import { SymlinkRules } from './symlink-rules.js';

/** True when every link of the list is accepted, fed in this order. */
function allAccepted(links: readonly [string, string][]): boolean {
  const rules = new SymlinkRules();
  return links.every(([p, t]) => rules.accept(p, t) === null);
}

describe('SymlinkRules', () => {
  it('refuses absolute and escaping targets, and `..` over a symlink in either order', () => {
    expect(allAccepted([['l', '/etc']])).toBe(false);
    expect(allAccepted([['l', '../x']])).toBe(false);
    expect(allAccepted([['l', 'a/../../x']])).toBe(false);
    for (const pair of [
      [
        ['a', '.'],
        ['c', 'a/..'],
      ],
      [
        ['a', 'b/b/..'],
        ['b', '.'],
      ],
      [
        ['d/e', '..'],
        ['x', 'd/e/../../y'],
      ],
    ] as [string, string][][]) {
      expect(allAccepted(pair), JSON.stringify(pair)).toBe(false);
      expect(allAccepted([...pair].reverse()), JSON.stringify(pair)).toBe(false);
    }
  });

  it('accepts links inside the tree, through other links forwards, and a refused link changes nothing', () => {
    expect(
      allAccepted([
        ['a/b/up', '../../a/b'],
        ['to-a', 'a'],
        ['via', 'to-a/b'],
        ['self', 'self/..'],
      ]),
    ).toBe(true);
    const rules = new SymlinkRules();
    expect(rules.accept('c', 'a/../../x')).not.toBeNull();
    expect(rules.accept('a', '.')).toBeNull();
  });

  it('decides every link as the plain set-based rule does, in any order (property)', () => {
    const seg = fc.constantFrom('a', 'b', 'c');
    const path = fc.array(seg, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
    const target = fc
      .array(fc.constantFrom('a', 'b', 'c', '..', '.'), { minLength: 1, maxLength: 5 })
      .map((s) => s.join('/'));
    fc.assert(
      fc.property(fc.array(fc.tuple(path, target), { maxLength: 6 }), (links) => {
        const rules = new SymlinkRules();
        const reference = new ReferenceRules();
        for (const [p, t] of links)
          expect(rules.accept(p, t) === null, `${p} -> ${t}`).toBe(reference.accept(p, t));
      }),
      { numRuns: 20_000 },
    );
  });

  it('gives the same verdict for a tree whatever the order (property)', () => {
    const path = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 });
    const target = fc
      .array(fc.constantFrom('a', 'b', '..', '.'), { minLength: 1, maxLength: 4 })
      .map((s) => s.join('/'));
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(
            path.map((s) => s.join('/')),
            target,
          ),
          {
            maxLength: 5,
            selector: ([p]) => p,
          },
        ),
        fc.func(fc.integer()),
        (drawn, key) => {
          // A tree: no link has entries below it.
          const links = drawn.filter(([p]) => !drawn.some(([q]) => p.startsWith(`${q}/`)));
          const shuffled = [...links].sort((x, y) => key(x[0]) - key(y[0]));
          expect(allAccepted(shuffled)).toBe(allAccepted(links));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('costs time linear in the target, not quadratic (hostile deep `..` chains)', () => {
    const deep = Array.from({ length: 2000 }, () => 'd').join('/');
    const up = Array.from({ length: 1300 }, () => '..').join('/');
    const rules = new SymlinkRules();
    const t0 = performance.now();
    for (let i = 0; i < 200; i++)
      expect(rules.accept(`${deep}/l${i}`, `${up}/x/y/${up.slice(0, 500)}`)).toBeNull();
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

/** The rule as SafeTree first wrote it (sets of paths, quadratic in deep targets): the specification. */
class ReferenceRules {
  private readonly links = new Set<string>();
  private readonly crossed = new Set<string>();

  accept(path: string, target: string): boolean {
    if (!isSafeSymlink(path, target) || this.crossed.has(path)) return false;
    const stack = path.split('/').slice(0, -1);
    const over = new Set<string>();
    for (const seg of target.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') {
        for (let i = stack.length; i > 0; i--) over.add(stack.slice(0, i).join('/'));
        stack.pop();
      } else stack.push(seg);
    }
    for (const c of over) if (this.links.has(c)) return false;
    this.links.add(path);
    for (const c of over) this.crossed.add(c);
    return true;
  }
}
