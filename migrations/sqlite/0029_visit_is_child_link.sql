-- A counted visit is its visitor's child link. Each counted visit used to write two rows, the
-- visit and the child link made for its visitor: the same facts twice, each under a random key,
-- and those random B-tree inserts bounded how many visits a node could count. Now the visit's
-- key is the child link's code (derived from the day's key, the link and the visitor, so unique
-- per link, visitor and day as the old key was), and `share_links` holds only the root links
-- that accounts make. A child link is looked up in `reach_visits` by its code.

-- The old child links by (parent, visitor), to pair each visit with its child.
CREATE INDEX share_links_parent_visitor ON share_links(parent_code, visitor);

CREATE TABLE reach_visits_new (
    -- The child link made for this visitor (also when the link was too deep to get one: then
    -- the code is only the visit's key). Visits from before this migration that had no child
    -- carry '-' || link || '-' || day || '-' || visitor, which is no link code.
    code TEXT PRIMARY KEY,
    -- The link visited, its depth (the child's is one more), its account, unit and page.
    link_code TEXT NOT NULL,
    day TEXT NOT NULL,
    visitor TEXT NOT NULL,
    campaign_id INTEGER NOT NULL,
    depth INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    org_id INTEGER NOT NULL,
    target TEXT NOT NULL,
    at INTEGER NOT NULL
);
INSERT INTO reach_visits_new (code, link_code, day, visitor, campaign_id, depth, account_id, org_id, target, at)
SELECT COALESCE(c.code, '-' || v.link_code || '-' || v.day || '-' || v.visitor), v.link_code, v.day,
       v.visitor, v.campaign_id, v.depth, v.account_id, v.org_id, COALESCE(p.target, '/'), v.at
FROM reach_visits v
LEFT JOIN share_links p ON p.code = v.link_code
LEFT JOIN share_links c ON c.parent_code = v.link_code AND c.visitor = v.visitor
-- (SQLite needs a WHERE before ON CONFLICT after a SELECT to tell the upsert from a join.)
WHERE true
ON CONFLICT DO NOTHING;

CREATE TABLE share_links_new (
    code TEXT PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    account_id INTEGER NOT NULL REFERENCES users(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    target TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO share_links_new (code, campaign_id, account_id, org_id, target, created_at)
SELECT code, campaign_id, account_id, org_id, target, created_at FROM share_links WHERE parent_code IS NULL;

DROP TABLE reach_visits;
DROP TABLE share_links;
ALTER TABLE reach_visits_new RENAME TO reach_visits;
ALTER TABLE share_links_new RENAME TO share_links;

-- One root link per account and page.
CREATE UNIQUE INDEX share_links_account_target ON share_links(account_id, target);
CREATE INDEX reach_visits_campaign_day ON reach_visits(campaign_id, day);
-- Visits to one page (an open class's measured views), counted from the index.
CREATE INDEX reach_visits_campaign_target ON reach_visits(campaign_id, target);
-- An account's visits by depth, and its root links' own visits (depth 1, by link), read from
-- the index alone.
CREATE INDEX reach_visits_account ON reach_visits(account_id, depth, link_code);
