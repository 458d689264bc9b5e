-- Offline activities ("3" of 12351+) and the earlier versions of edited reports.

CREATE TABLE activities (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    status TEXT NOT NULL,
    -- The whole plan and report as JSON (ActivityInput); the columns below are what lists,
    -- counts and sorting need.
    document TEXT NOT NULL,
    name TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    participants INTEGER NOT NULL DEFAULT 0,
    grassroots_unions INTEGER NOT NULL DEFAULT 0,
    enterprises INTEGER NOT NULL DEFAULT 0,
    new_propagandists INTEGER NOT NULL DEFAULT 0,
    online_views INTEGER NOT NULL DEFAULT 0,
    return_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX activities_org ON activities(org_id);
CREATE INDEX activities_campaign_status ON activities(campaign_id, status);

CREATE TABLE activity_versions (
    activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    document TEXT NOT NULL,
    saved_by INTEGER REFERENCES users(id),
    saved_at INTEGER NOT NULL,
    PRIMARY KEY (activity_id, version)
);
