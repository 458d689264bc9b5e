-- The sub-projects each moderator checks, per campaign (the city admin assigns them). A
-- moderator sees and decides only the works of these; the city admin sees all.
CREATE TABLE moderator_assignments (
    user_id BIGINT NOT NULL REFERENCES users(id),
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
    sub_project TEXT NOT NULL,
    assigned_by BIGINT REFERENCES users(id),
    assigned_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, campaign_id, sub_project)
);
