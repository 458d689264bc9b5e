-- The propagandist register at campaign scale (issue 12): the day a person joined, edits, and
-- removal with a reason (the row stays, out of every count, for the audit trail). A person's
-- key is their phone ("tel:<phone>") wherever they are registered, so the same person is
-- counted once across units and moving them is an edit; without a phone, name plus unit.
ALTER TABLE propagandists ADD COLUMN joined_on TEXT;
ALTER TABLE propagandists ADD COLUMN updated_at INTEGER;
ALTER TABLE propagandists ADD COLUMN removed_at INTEGER;
ALTER TABLE propagandists ADD COLUMN removed_reason TEXT;
ALTER TABLE propagandists ADD COLUMN removed_by INTEGER REFERENCES users(id);

-- Existing entries with a phone take the phone as their key (the earliest entry per phone,
-- when one phone was registered under two names: the later stay as they were).
UPDATE propagandists SET person_key = 'tel:' || phone
 WHERE phone IS NOT NULL AND phone <> ''
   AND id = (SELECT MIN(p2.id) FROM propagandists p2
              WHERE p2.campaign_id = propagandists.campaign_id AND p2.phone = propagandists.phone);

-- Search by name or phone, newest first, within a campaign.
CREATE INDEX propagandists_campaign_name ON propagandists(campaign_id, name);
CREATE INDEX propagandists_campaign_phone ON propagandists(campaign_id, phone);

-- Each node keeps the current campaign parsed in memory and checks (id, revision) every few
-- seconds: a save bumps the revision (updated_at alone is in whole seconds).
ALTER TABLE campaigns ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
