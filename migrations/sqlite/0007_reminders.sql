-- Reminders (催报): in Wangju and by e-mail, and accounts' e-mail addresses.

ALTER TABLE users ADD COLUMN email TEXT;

-- One reminder to one unit: the in-app notice its admins see, and the e-mail job behind it.
-- Automatic reminders carry a dedup_key (campaign, unit, phase deadline, days before), so each
-- is created once however many nodes run the job: INSERT ... ON CONFLICT DO NOTHING. Manual
-- ones have none. The e-mail is claimed by compare-and-set on mail_status with a lease, so one
-- node sends it; a failure is retried later with backoff.
CREATE TABLE reminders (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    dedup_key TEXT UNIQUE,
    deadline TEXT,
    days_before INTEGER,
    message TEXT NOT NULL,
    note TEXT,
    sender_id INTEGER REFERENCES users(id),
    sender_label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    mail_status TEXT NOT NULL,
    mail_attempts INTEGER NOT NULL DEFAULT 0,
    mail_next_at INTEGER NOT NULL,
    mail_lease_until INTEGER,
    mail_error TEXT,
    mail_recipients INTEGER NOT NULL DEFAULT 0,
    mail_sent_at INTEGER
);
CREATE INDEX reminders_org ON reminders(org_id, id);
CREATE INDEX reminders_mail ON reminders(mail_status, mail_next_at);

-- Who has read which reminder (each admin marks their own).
CREATE TABLE reminder_reads (
    reminder_id INTEGER NOT NULL REFERENCES reminders(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    read_at INTEGER NOT NULL,
    PRIMARY KEY (reminder_id, user_id)
);
