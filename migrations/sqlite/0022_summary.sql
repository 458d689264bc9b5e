-- The campaign summary (活动总结): the city's narrative paragraph of each section, every
-- version kept (who, when, text; the latest is the one used; an empty text means "written
-- from the figures"), and each district's own summary (a text and an optional .docx/.pdf in
-- the file store). `version` is 1, 2, …: saving version n + 1 fails on the primary key when
-- another editor saved it first (compare-and-set). Times are Unix seconds.
CREATE TABLE summary_narratives (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    section TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    author_id INTEGER REFERENCES users(id),
    author_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, section, version)
);

-- One row per district (区总工会 or bureau/group-company union) that has submitted; a
-- resubmission before the deadline replaces it (`version` counts them).
CREATE TABLE district_summaries (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    body TEXT NOT NULL,
    file_key TEXT,
    file_name TEXT,
    file_size INTEGER,
    version INTEGER NOT NULL,
    submitted_by INTEGER REFERENCES users(id),
    submitted_at INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, org_id)
);
