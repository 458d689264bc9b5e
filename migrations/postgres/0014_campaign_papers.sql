-- What the city sets for the papers it hands upward, kept with the campaign: the circular's
-- document number and its first paragraph as edited on the progress page (NULL: written from
-- the figures at export time). `updated_at` is Unix seconds.
CREATE TABLE campaign_papers (
    campaign_id BIGINT PRIMARY KEY REFERENCES campaigns(id) ON DELETE CASCADE,
    doc_number TEXT,
    lead TEXT,
    updated_at BIGINT NOT NULL
);
