import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { BlobStore } from '../../../ports/blob-store.js';
import { checkedBlobStore } from '../checked.js';
import { LocalBlobStore } from '../local/local-blob-store.js';
import { localBlobRoutes } from '../local/routes.js';
import type { BlobStoreHarness } from './harness.js';

/** A LocalBlobStore harness that also exposes the driver and its directory. */
export interface LocalBlobHarness extends BlobStoreHarness {
  /** The unwrapped driver (for verifySignedRequest and white-box checks). */
  local: LocalBlobStore;
  /** The checked store, as the server uses it. */
  store: BlobStore;
  /** The store's root directory (removed by close). */
  root: string;
  /** Base URL of the HTTP server serving `localBlobRoutes`. */
  fetchBase: string;
  /** Moves the store's clock forward. */
  advanceClock(ms: number): void;
}

/** A LocalBlobStore in a fresh temp dir, its routes on a real HTTP server on 127.0.0.1. */
export async function openLocalBlobHarness(): Promise<LocalBlobHarness> {
  const root = await mkdtemp(join(tmpdir(), 'trove-blob-'));
  let skew = 0;
  const local = new LocalBlobStore({
    root,
    secret: 'conformance-secret-0123456789',
    now: () => Date.now() + skew,
  });
  const app = localBlobRoutes(local);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    local,
    root,
    store: checkedBlobStore(local),
    fetchBase: `http://127.0.0.1:${port}`,
    enforcesPresignedIntegrity: true,
    verifiesSignatures: true,
    servesFirstByteRange: true,
    advanceClock(ms) {
      skew += ms;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      await rm(root, { recursive: true, force: true });
    },
  };
}
