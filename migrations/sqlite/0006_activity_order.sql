-- The activity list and its export walk activities newest first, a page at a time (keyset on
-- starts_at, id): with this index each page is a short index walk instead of a sort of the
-- whole campaign.
CREATE INDEX activities_campaign_starts ON activities(campaign_id, starts_at, id);
