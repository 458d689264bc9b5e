-- Works: workers' submissions to the sub-projects Wangju hosts, the files behind them, their
-- moderation, and units' participation in the sub-projects hosted elsewhere.

-- Registration consent (privacy notice version and time) for self-registered workers.
ALTER TABLE users ADD COLUMN consent_version TEXT;
ALTER TABLE users ADD COLUMN consent_at INTEGER;

-- A resumable upload. Its parts live in the file store under `uploads/<id>/`; once complete it
-- is assembled, checked against the sub-project's rules, and kept under random keys.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    sub_project TEXT NOT NULL,
    -- As the phone named it: shown, never used as a storage name.
    file_name TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    -- Bytes acknowledged so far; a resumed upload continues from here.
    received INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    stored_key TEXT,
    clean_key TEXT,
    media_type TEXT,
    verdict TEXT,
    report TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX uploads_owner ON uploads(owner_id);

CREATE TABLE works (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    sub_project TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    -- The worker the work belongs to, and who filed it (the worker, or a unit admin for them).
    owner_id INTEGER NOT NULL REFERENCES users(id),
    filed_by INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    -- JSON list of real names.
    authors TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    upload_id TEXT NOT NULL REFERENCES uploads(id),
    originality_version TEXT NOT NULL,
    originality_at INTEGER NOT NULL,
    portrait_version TEXT NOT NULL,
    portrait_at INTEGER NOT NULL,
    subtitles_declared INTEGER NOT NULL,
    decision_reason TEXT,
    decided_by INTEGER REFERENCES users(id),
    decided_at INTEGER,
    submitted_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX works_queue ON works(sub_project, status, submitted_at);
CREATE INDEX works_owner ON works(owner_id);
CREATE INDEX works_org ON works(org_id);

-- Every submission and decision, in order: what the worker sees as the work's history.
CREATE TABLE work_events (
    id INTEGER PRIMARY KEY,
    work_id INTEGER NOT NULL REFERENCES works(id),
    actor_id INTEGER NOT NULL REFERENCES users(id),
    action TEXT NOT NULL,
    reason TEXT,
    upload_id TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX work_events_work ON work_events(work_id);

-- A unit's entry in a sub-project hosted by another organisation.
CREATE TABLE participations (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    sub_project TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    work_title TEXT NOT NULL,
    authors TEXT NOT NULL,
    submitted_to TEXT NOT NULL,
    reference TEXT NOT NULL,
    submitted_on TEXT NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX participations_org ON participations(org_id);
