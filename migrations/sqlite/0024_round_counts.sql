-- The round page's counts kept on the round row (issue 13): the works in the round, its
-- assignments and its submitted score sheets, changed by `UPDATE … SET n = n + k` in the same
-- transaction as each write to `round_works` / `review_assignments` (`db::selection`), so a
-- request reads one row instead of counting 150,000 sheets.
ALTER TABLE review_rounds ADD COLUMN works_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE review_rounds ADD COLUMN assignments_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE review_rounds ADD COLUMN submitted_count INTEGER NOT NULL DEFAULT 0;
UPDATE review_rounds SET
    works_count = (SELECT COUNT(*) FROM round_works rw WHERE rw.round_id = review_rounds.id),
    assignments_count = (SELECT COUNT(*) FROM review_assignments a WHERE a.round_id = review_rounds.id),
    submitted_count = (SELECT COUNT(*) FROM review_assignments a
                       WHERE a.round_id = review_rounds.id AND a.status = 'submitted');

-- A sub-project's reviewer pool changes (a reviewer added or withdrawn): each change adds one,
-- in the same transaction, so a node keeps the pool it read until the revision moves.
CREATE TABLE reviewer_pool_revisions (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    sub_project TEXT NOT NULL,
    rev INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, sub_project)
);
