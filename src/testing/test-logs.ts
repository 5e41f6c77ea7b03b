import type { ChildProcess } from 'node:child_process';

/**
 * Copies a child process's output (both streams by default; they must be
 * piped) into this process's buffered stderr, each line tagged with `label`,
 * so it is printed if the test fails.
 */
export function forwardChildOutput(
  child: ChildProcess,
  label: string,
  which: readonly ('stdout' | 'stderr')[] = ['stdout', 'stderr'],
): void {
  for (const stream of which.map((name) => child[name])) {
    let partial = '';
    stream?.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) process.stderr.write(`[${label}] ${line}\n`);
    });
    stream?.on('end', () => {
      if (partial !== '') process.stderr.write(`[${label}] ${partial}\n`);
      partial = '';
    });
  }
}
