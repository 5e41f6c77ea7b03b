-- Archive retention. An archive of a version that fell out of the newest N
-- history entries of every storage goes ready -> evicted (no new download
-- URLs; the object stays for a grace period so downloads already handed out
-- finish) -> deleted (object removed). A rebuild moves either back to building.
ALTER TABLE archives DROP CONSTRAINT archives_state_check;
ALTER TABLE archives ADD CONSTRAINT archives_state_check
  CHECK (state IN ('pending', 'building', 'ready', 'failed', 'evicted', 'deleted'));
ALTER TABLE archives ADD COLUMN evicted_at timestamptz;
-- Eviction scans only the archives it may evict, which retention keeps few
-- (the predicate matches EVICTABLE in archive-sql.ts, so the planner uses it).
CREATE INDEX archives_evictable_idx ON archives (tenant_id, version_id)
  WHERE state IN ('ready', 'pending', 'failed');
-- The purge scans only archives whose object still waits for deletion.
CREATE INDEX archives_evicted_idx ON archives (evicted_at) WHERE state = 'evicted';
