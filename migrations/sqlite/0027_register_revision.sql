-- The register's first page at 20,000 people: the newest entries come from one index walked
-- backwards (the plan no longer depends on statistics), and its total is counted once per change
-- of the register. `register_revision.rev` is that change counter: triggers move it on every
-- write to `propagandists`, so no write path can forget it.
CREATE INDEX propagandists_live ON propagandists(campaign_id, id, org_id) WHERE removed_at IS NULL;

CREATE TABLE register_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev INTEGER NOT NULL
);
INSERT INTO register_revision (id, rev) VALUES (1, 0);

CREATE TRIGGER propagandists_rev_insert AFTER INSERT ON propagandists
BEGIN
    UPDATE register_revision SET rev = rev + 1 WHERE id = 1;
END;
CREATE TRIGGER propagandists_rev_update AFTER UPDATE ON propagandists
BEGIN
    UPDATE register_revision SET rev = rev + 1 WHERE id = 1;
END;
CREATE TRIGGER propagandists_rev_delete AFTER DELETE ON propagandists
BEGIN
    UPDATE register_revision SET rev = rev + 1 WHERE id = 1;
END;
