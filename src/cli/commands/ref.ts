import { usageError } from '../command.js';

const REF = /^(latest|[0-9a-f]{4,64})$/;

/** Splits `STORAGE[@REF]`; REF defaults to latest. */
export function parseStorageRef(command: string, arg: string): { storage: string; ref: string } {
  const at = arg.lastIndexOf('@');
  const storage = at < 0 ? arg : arg.slice(0, at);
  const ref = at < 0 ? 'latest' : arg.slice(at + 1);
  if (storage === '') throw usageError(command, `missing storage name in ${JSON.stringify(arg)}`);
  if (!REF.test(ref)) {
    throw usageError(
      command,
      `invalid version reference ${JSON.stringify(ref)}: use latest, a version id or a prefix of at least 4 hex digits`,
    );
  }
  return { storage, ref };
}
