-- The phone a check-in came from: a SHA-256 of a long-lived random cookie (never the address).
-- One phone signing in several names is capped and shown to the reviewers.
ALTER TABLE checkins ADD COLUMN device TEXT;
CREATE INDEX checkins_device ON checkins(activity_id, device);

-- Propagandists who joined the register themselves (ticking the box when checking in) record
-- the consent text's version they agreed to, and where the entry came from.
ALTER TABLE propagandists ADD COLUMN consent_version TEXT;
ALTER TABLE propagandists ADD COLUMN source TEXT NOT NULL DEFAULT 'register';
