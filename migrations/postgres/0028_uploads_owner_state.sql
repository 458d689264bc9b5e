-- Starting an upload counts the account's uploads still receiving (the open-uploads limit).
-- With the owner alone indexed that count read every upload the account ever made; with the
-- state beside it, only the open ones. The owner-only index is a prefix of the new one.
DROP INDEX uploads_owner;
CREATE INDEX uploads_owner_state ON uploads(owner_id, state);
