// Preload (`node --import`): fails any import that resolves into a server
// dependency, so a process that gets past its imports provably loaded none.
import { register } from 'node:module';

register('./forbid-server-deps-hooks.mjs', import.meta.url);
