// Module hooks for forbid-server-deps.mjs (they run on the loader thread).
// TROVE_FORBID_MODULES (a regular expression on resolved URLs) replaces the
// default list, e.g. to check that `trove --version` loads no command module.
const SERVER_DEPS =
  /\/node_modules\/(hono|@hono\/[^/]+|@electric-sql\/[^/]+|pg|pg-[^/]+|@aws-sdk\/[^/]+|@smithy\/[^/]+)\//;
const FORBIDDEN = process.env.TROVE_FORBID_MODULES
  ? new RegExp(process.env.TROVE_FORBID_MODULES)
  : SERVER_DEPS;

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  const hit = FORBIDDEN.exec(result.url);
  if (hit) {
    throw new Error(
      `forbidden module loaded (server dependency ${hit[1] ?? hit[0]}): ${specifier} from ${context.parentURL ?? '(entry)'}`,
    );
  }
  return result;
}
