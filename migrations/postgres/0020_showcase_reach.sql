-- The showcase (public pages of accepted works and confirmed activities, shown by choice) and
-- measured reach: attributed share links forming a tree, and the visits counted through them.

-- A work or activity its author or unit chose to show. The row's presence is the choice; it
-- is public only while the work is also accepted (the activity confirmed).
CREATE TABLE showcase_items (
    kind TEXT NOT NULL,
    item_id BIGINT NOT NULL,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
    shown_by BIGINT NOT NULL REFERENCES users(id),
    shown_at BIGINT NOT NULL,
    PRIMARY KEY (kind, item_id)
);

-- A share link. A root link (depth 1) belongs to a signed-in account; a child link is made for
-- a visitor who came through its parent and carries the same account and unit one level deeper.
-- `visitor` is the day's keyed hash of the visitor a child was made for (self-visits).
CREATE TABLE share_links (
    code TEXT PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
    account_id BIGINT NOT NULL REFERENCES users(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    target TEXT NOT NULL,
    parent_code TEXT,
    depth BIGINT NOT NULL,
    visitor TEXT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX share_links_root ON share_links(account_id, target) WHERE parent_code IS NULL;

-- One counted visit: a visitor (the day's keyed hash, never an address) through one link on one
-- China day. The account, unit and depth are the link's, copied for the dashboard's sums.
CREATE TABLE reach_visits (
    link_code TEXT NOT NULL,
    day TEXT NOT NULL,
    visitor TEXT NOT NULL,
    campaign_id BIGINT NOT NULL,
    depth BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    org_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (link_code, day, visitor)
);
CREATE INDEX reach_visits_campaign_day ON reach_visits(campaign_id, day);
CREATE INDEX reach_visits_account ON reach_visits(account_id);

-- The day's random hashing key, shared by the nodes; deleted once its day is over.
CREATE TABLE reach_keys (
    day TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);
