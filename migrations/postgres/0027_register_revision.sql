-- The register's first page at 20,000 people: the newest entries come from one index walked
-- backwards, and its total is counted once per change of the register. `register_revision.rev`
-- is that change counter: a statement trigger moves it on every write to `propagandists`, so no
-- write path can forget it.
CREATE INDEX propagandists_live ON propagandists(campaign_id, id, org_id) WHERE removed_at IS NULL;

CREATE TABLE register_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev BIGINT NOT NULL
);
INSERT INTO register_revision (id, rev) VALUES (1, 0);

CREATE FUNCTION bump_register_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE register_revision SET rev = rev + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER propagandists_rev AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON propagandists
    FOR EACH STATEMENT EXECUTE FUNCTION bump_register_revision();
