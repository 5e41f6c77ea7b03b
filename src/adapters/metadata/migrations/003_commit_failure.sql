-- A commit that failed with missing_chunks is answered again from here, not
-- recomputed, while the session's verified packs are the same: a repeated
-- commit of a manifest full of unknown refs would otherwise redo its index
-- queries on every call (see src/services/commit.ts).
ALTER TABLE upload_sessions ADD COLUMN commit_failure jsonb;
