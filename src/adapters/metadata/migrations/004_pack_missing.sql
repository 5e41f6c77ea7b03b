-- A pack the server found absent from the object store (deleted behind its
-- back, lost by the bucket). Its index rows stay, but no longer vouch for
-- dedup: the next push of that content re-uploads it and the new pack takes
-- the chunks over. Only the server marks a pack missing, after it has looked
-- (a stat of the object), never on a client's word.
ALTER TABLE packs DROP CONSTRAINT packs_state_check;
ALTER TABLE packs ADD CONSTRAINT packs_state_check
  CHECK (state IN ('live', 'condemned', 'missing'));
ALTER TABLE packs ADD COLUMN missing_at timestamptz;
