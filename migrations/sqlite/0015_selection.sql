-- Selection (评选): reviewer pools per sub-project, declared conflicts of interest, the review
-- rounds a sub-project has opened (their definitions live in the campaign document), the works
-- in each round with the results frozen at its close, and the assignments with their scores.

-- The reviewers who judge a sub-project. A reviewer who drops out is deleted from the pool (the
-- audit log keeps who and when); their unscored assignments go to others.
CREATE TABLE reviewer_pools (
    user_id INTEGER NOT NULL REFERENCES users(id),
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    sub_project TEXT NOT NULL,
    added_by INTEGER REFERENCES users(id),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, campaign_id, sub_project)
);

-- Declared conflicts: a unit (its whole subtree) or a person (a work owner's account). The
-- reviewer's own unit subtree is a conflict without being declared.
CREATE TABLE reviewer_conflicts (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    org_id INTEGER REFERENCES orgs(id),
    person_id INTEGER REFERENCES users(id),
    note TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX reviewer_conflicts_user ON reviewer_conflicts(user_id);

-- A round once opened; `status` is open or closed, closed by compare-and-set.
CREATE TABLE review_rounds (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    sub_project TEXT NOT NULL,
    round_code TEXT NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    opened_by INTEGER REFERENCES users(id),
    opened_at INTEGER NOT NULL,
    closed_by INTEGER REFERENCES users(id),
    closed_at INTEGER,
    UNIQUE (campaign_id, sub_project, round_code)
);

-- The works judged in a round; rank and scores are written when the round closes
-- (score in hundredths of a point of 100, normalised score in thousandths).
CREATE TABLE round_works (
    round_id INTEGER NOT NULL REFERENCES review_rounds(id),
    work_id INTEGER NOT NULL REFERENCES works(id),
    rank INTEGER,
    score_centi INTEGER,
    normalised_milli INTEGER,
    advanced INTEGER NOT NULL,
    PRIMARY KEY (round_id, work_id)
);

-- Who scores which work in a round, and the score sheet: `status` pending, draft or submitted.
-- `assigned_by` is NULL for the automatic assignment, the admin for a move by hand.
CREATE TABLE review_assignments (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES review_rounds(id),
    work_id INTEGER NOT NULL REFERENCES works(id),
    reviewer_id INTEGER NOT NULL REFERENCES users(id),
    assigned_by INTEGER REFERENCES users(id),
    assigned_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    scores TEXT,
    comment TEXT NOT NULL,
    score_centi INTEGER,
    updated_at INTEGER NOT NULL,
    submitted_at INTEGER,
    UNIQUE (round_id, work_id, reviewer_id)
);
CREATE INDEX review_assignments_reviewer ON review_assignments(reviewer_id, round_id);
