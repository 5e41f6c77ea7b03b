-- trove metadata schema, version 1. Standard PostgreSQL (15+), also run by PGlite.
-- Every table carries tenant_id and every primary key starts with it, so no
-- query can reach another tenant's rows by accident. Digests are 64-char
-- lowercase hex text; byte sizes are bigint.

CREATE TABLE tenants (
  tenant_id text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE storages (
  tenant_id text NOT NULL,
  name text NOT NULL,
  head text,
  entries integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE versions (
  tenant_id text NOT NULL,
  id text NOT NULL,
  manifest_size bigint NOT NULL,
  size bigint NOT NULL,
  files bigint NOT NULL,
  entries bigint NOT NULL,
  chunk_refs bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE history (
  tenant_id text NOT NULL,
  storage text NOT NULL,
  seq integer NOT NULL,
  version_id text NOT NULL,
  parent text,
  message text NOT NULL DEFAULT '',
  bytes_uploaded bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, storage, seq),
  FOREIGN KEY (tenant_id, storage) REFERENCES storages (tenant_id, name),
  FOREIGN KEY (tenant_id, version_id) REFERENCES versions (tenant_id, id)
);
-- Prefix lookup (LIKE 'abc%') within one storage, whatever the database collation.
CREATE INDEX history_version_prefix_idx
  ON history (tenant_id, storage, version_id text_pattern_ops);
-- GC: which storages still reference a version.
CREATE INDEX history_version_idx ON history (tenant_id, version_id);

CREATE TABLE packs (
  tenant_id text NOT NULL,
  id text NOT NULL,
  size bigint NOT NULL,
  chunk_count integer NOT NULL,
  state text NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'condemned')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE chunks (
  tenant_id text NOT NULL,
  digest text NOT NULL,
  pack_id text NOT NULL,
  "offset" bigint NOT NULL,
  stored_size bigint NOT NULL,
  raw_size bigint NOT NULL,
  codec text NOT NULL CHECK (codec IN ('raw', 'zstd')),
  PRIMARY KEY (tenant_id, digest),
  FOREIGN KEY (tenant_id, pack_id) REFERENCES packs (tenant_id, id)
);
CREATE INDEX chunks_pack_idx ON chunks (tenant_id, pack_id);

CREATE TABLE version_packs (
  tenant_id text NOT NULL,
  version_id text NOT NULL,
  pack_id text NOT NULL,
  PRIMARY KEY (tenant_id, version_id, pack_id),
  FOREIGN KEY (tenant_id, version_id) REFERENCES versions (tenant_id, id),
  FOREIGN KEY (tenant_id, pack_id) REFERENCES packs (tenant_id, id)
);
CREATE INDEX version_packs_pack_idx ON version_packs (tenant_id, pack_id);

CREATE TABLE archives (
  tenant_id text NOT NULL,
  version_id text NOT NULL,
  format text NOT NULL CHECK (format IN ('tar.gz', 'tar.zst')),
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'building', 'ready', 'failed')),
  size bigint,
  sha256 text,
  error text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version_id, format),
  FOREIGN KEY (tenant_id, version_id) REFERENCES versions (tenant_id, id)
);
-- Only unfinished archives are scanned for staleness; keep that index small.
CREATE INDEX archives_unfinished_idx ON archives (updated_at)
  WHERE state IN ('pending', 'building');

CREATE TABLE upload_sessions (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  storage text NOT NULL,
  version_id text NOT NULL,
  manifest_size bigint NOT NULL,
  expected_head text,
  on_conflict text NOT NULL CHECK (on_conflict IN ('fail', 'force')),
  message text NOT NULL DEFAULT '',
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'committed', 'aborted')),
  progress jsonb NOT NULL DEFAULT '{"entriesChecked":0,"manifestValid":false}',
  outcome jsonb,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX upload_sessions_expiry_idx ON upload_sessions (expires_at) WHERE state = 'open';

CREATE TABLE session_packs (
  tenant_id text NOT NULL,
  session_id uuid NOT NULL,
  pack_id text NOT NULL,
  size bigint NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'verified')),
  PRIMARY KEY (tenant_id, session_id, pack_id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES upload_sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX session_packs_pack_idx ON session_packs (tenant_id, pack_id);

-- Packs holding chunks the session's manifest references (found during commit
-- verification): protected from GC by the session lease.
CREATE TABLE session_ref_packs (
  tenant_id text NOT NULL,
  session_id uuid NOT NULL,
  pack_id text NOT NULL,
  PRIMARY KEY (tenant_id, session_id, pack_id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES upload_sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX session_ref_packs_pack_idx ON session_ref_packs (tenant_id, pack_id);
