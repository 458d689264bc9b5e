-- Recommendation (推荐): the works the city recommends to the national level per sub-project,
-- picked from the final ranking within the campaign file's cap, and the national results
-- imported in October.

-- One row per recommended work. `position` is its 序号 in the package; `rank` its place in the
-- final ranking when it had one. `reason` is required for an override (a work picked past a
-- better-ranked one, or one the ranking does not give). `publicity_id` is the 公示 drafted
-- from the list; once set, the list is fixed.
CREATE TABLE recommendations (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    sub_project TEXT NOT NULL,
    work_id INTEGER NOT NULL REFERENCES works(id),
    position INTEGER NOT NULL,
    rank INTEGER,
    score_centi INTEGER,
    reason TEXT,
    publicity_id INTEGER REFERENCES publicities(id),
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    UNIQUE (campaign_id, work_id)
);
CREATE INDEX recommendations_sub ON recommendations(campaign_id, sub_project, position);

-- The national result of a work (一等奖, 二等奖, … or whatever level the national list names).
CREATE TABLE national_results (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    work_id INTEGER NOT NULL REFERENCES works(id),
    award TEXT NOT NULL,
    imported_by INTEGER REFERENCES users(id),
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, work_id)
);
CREATE INDEX national_results_work ON national_results(work_id);

-- The round page's counts and the live ranking's freshness stamp read only this index.
CREATE INDEX review_assignments_round_status ON review_assignments(round_id, status, updated_at);
-- The top of a closed round's frozen ranking without sorting the round.
CREATE INDEX round_works_rank ON round_works(round_id, rank);
