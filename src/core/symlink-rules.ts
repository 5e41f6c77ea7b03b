import { isSafeSymlink } from './paths.js';

/** A path of the tree as the rule sees it: a node of a trie of path segments. */
interface PathNode {
  /** Child segments, created on first use. */
  children: Map<string, PathNode> | undefined;
  /** The symlink at this path, if one was accepted here. */
  link: string | undefined;
  /** The first accepted symlink whose target steps back over this path with `..`. */
  crossedBy: string | undefined;
  /** True when this path is (under) a symlink whose own target crossed it. */
  underLink: boolean;
}

function node(): PathNode {
  return { children: undefined, link: undefined, crossedBy: undefined, underLink: false };
}

/**
 * The one rule deciding which symlinks a tree may hold (invariants 8 and 11):
 * pull's SafeTree applies it before creating each link, commit applies it to
 * every symlink of the manifest and push's scan to every link it walks. Pure,
 * no I/O. Fed the symlinks of one tree in any order, it accepts the same set
 * (a refusal names whichever link of a bad pair came second).
 *
 * A target must be relative and, resolved lexically from the link's
 * directory, never leave the root (isSafeSymlink). That is only sound if
 * every component a `..` steps back over is a real directory: `a -> .` makes
 * `a/..` the root's parent. So each such component, and each of its
 * ancestors (`b -> .` makes `b/b/..` escape), is recorded, and a symlink may
 * neither sit on one nor step back over one, whichever comes first.
 *
 * State is a trie of the segments of accepted links' paths and targets, so
 * memory is linear in the bytes of the symlink entries (never in the number
 * of files), and each link costs time linear in its path and target.
 */
export class SymlinkRules {
  private readonly root = node();

  /**
   * Checks a symlink and records it when it is allowed. Returns why it is
   * refused, or null; a refused link leaves the recorded state as it was.
   */
  accept(path: string, target: string): string | null {
    if (!isSafeSymlink(path, target))
      return `symlink target ${JSON.stringify(target)} escapes the tree`;
    const segs = path.split('/');
    const stack: PathNode[] = [];
    let at = this.root;
    for (let i = 0; i < segs.length - 1; i++) {
      at = this.child(at, segs[i] as string);
      stack.push(at);
    }
    const self = this.child(at, segs[segs.length - 1] as string);
    if (self.crossedBy !== undefined)
      return `a symlink here would redirect ${JSON.stringify(self.crossedBy)}`;
    // Nodes this target steps back over, collected to be marked once it is accepted.
    // Ancestors of a marked node are marked and are not symlinks, so the walk down
    // the stack stops at the first marked node; `fresh` skips what this walk already
    // collected, keeping it linear in the target. The exception is a link whose
    // target steps back over itself (`l -> l/..`, which never resolves): its marks
    // at or below its own node sit under a symlink, so a walk never stops at them.
    const depth = segs.length;
    const crossed: [PathNode, boolean][] = [];
    let fresh = 0;
    for (const seg of target.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg !== '..') {
        stack.push(this.child(stack[stack.length - 1] ?? this.root, seg));
        continue;
      }
      const throughSelf = stack[depth - 1] === self;
      for (let i = stack.length - 1; i >= fresh; i--) {
        const n = stack[i] as PathNode;
        if (n.link !== undefined)
          return `symlink target ${JSON.stringify(target)} steps back over symlink ${JSON.stringify(n.link)}`;
        if (n.crossedBy !== undefined && !n.underLink) break;
        crossed.push([n, throughSelf && i >= depth - 1]);
      }
      stack.pop();
      fresh = stack.length;
    }
    for (const [n, underSelf] of crossed) {
      n.crossedBy ??= path;
      if (underSelf) n.underLink = true;
    }
    self.link = path;
    return null;
  }

  private child(parent: PathNode, seg: string): PathNode {
    parent.children ??= new Map();
    let c = parent.children.get(seg);
    if (c === undefined) {
      c = node();
      parent.children.set(seg, c);
    }
    return c;
  }
}
