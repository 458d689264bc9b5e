-- The objects holding an upload's acknowledged bytes, by the byte they start at. Each request
-- writes its own object, so a retry racing a stalled request on the same offset never writes
-- into (or deletes) the object that was acknowledged; assembling reads exactly these.
CREATE TABLE upload_parts (
    upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    start_byte INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    part_key TEXT NOT NULL,
    PRIMARY KEY (upload_id, start_byte)
);

-- One work per upload, enforced by the database too (two submissions racing with one file).
CREATE UNIQUE INDEX works_upload ON works(upload_id);
-- The sweep of abandoned uploads: the idle ones first, and whether a submission names them.
CREATE INDEX uploads_idle ON uploads(updated_at);
CREATE INDEX work_events_upload ON work_events(upload_id);
