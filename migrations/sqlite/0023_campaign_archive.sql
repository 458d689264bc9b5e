-- The campaign archive and closing a campaign (issue 15 item 5).

-- One row per archive written by `wangju campaign archive`: where it went, the SHA-256 of its
-- manifest (the archive's digest: the manifest lists every entry's SHA-256) and of the whole
-- zip, and the audit log's last entry when it was written, so closing can tell whether anything
-- changed since.
CREATE TABLE campaign_archives (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    written_at INTEGER NOT NULL,
    written_by TEXT NOT NULL,
    file_name TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    zip_sha256 TEXT NOT NULL,
    entries INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    audit_last_id INTEGER NOT NULL
);
CREATE INDEX campaign_archives_campaign ON campaign_archives(campaign_id, id);

-- A closed campaign is read-only: when, by whom, and on which archive. NULL: open.
ALTER TABLE campaigns ADD COLUMN closed_at INTEGER;
ALTER TABLE campaigns ADD COLUMN closed_by TEXT;
ALTER TABLE campaigns ADD COLUMN closed_archive_id INTEGER REFERENCES campaign_archives(id);
