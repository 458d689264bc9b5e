-- 公示: lists published for N working days (recommended works, selected models), the entries on
-- them and the real-name objections lodged against them. Dates are China dates (YYYY-MM-DD).
CREATE TABLE publicities (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    notice TEXT NOT NULL,
    contact TEXT NOT NULL,
    workdays INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'draft',
    starts_on TEXT,
    ends_on TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    published_at INTEGER,
    closed_at INTEGER
);
CREATE INDEX publicities_campaign ON publicities(campaign_id, state);

CREATE TABLE publicity_entries (
    id INTEGER PRIMARY KEY,
    publicity_id INTEGER NOT NULL REFERENCES publicities(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    -- What the entry stands for: 'work' (works.id) or 'model' (a nomination), by id.
    subject_kind TEXT NOT NULL,
    subject_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    unit TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    withdrawn_reason TEXT,
    withdrawn_at INTEGER,
    UNIQUE (publicity_id, subject_kind, subject_id)
);

CREATE TABLE objections (
    id INTEGER PRIMARY KEY,
    publicity_id INTEGER NOT NULL REFERENCES publicities(id) ON DELETE CASCADE,
    entry_id INTEGER NOT NULL REFERENCES publicity_entries(id) ON DELETE CASCADE,
    -- SHA-256 of the receipt code the objector was given; the code itself is never stored.
    receipt_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence_key TEXT,
    evidence_type TEXT,
    lodged_at INTEGER NOT NULL,
    ip TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    ruling TEXT,
    ruled_by INTEGER REFERENCES users(id),
    ruled_at INTEGER
);
CREATE INDEX objections_publicity ON objections(publicity_id, state);
CREATE INDEX objections_ip ON objections(ip, lodged_at);
