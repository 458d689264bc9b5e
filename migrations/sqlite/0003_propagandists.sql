-- 职工好网民宣传员: the "2" of 12351+.

CREATE TABLE propagandists (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    phone TEXT,
    -- Accounts they post on (optional), free text: platform and handle.
    accounts TEXT NOT NULL DEFAULT '',
    -- Same person, same campaign: counted once. Name plus phone (or plus unit when no phone).
    person_key TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    UNIQUE (campaign_id, person_key)
);
CREATE INDEX propagandists_org ON propagandists(org_id);
