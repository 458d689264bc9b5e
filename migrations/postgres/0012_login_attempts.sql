-- Login attempts are taken from a budget before the password is checked: `failed_logins`
-- counts the attempts of the current window (failures and those still being checked), and
-- `attempts_since` is when that window began (Unix seconds; 0 = none).
ALTER TABLE users ADD COLUMN attempts_since BIGINT NOT NULL DEFAULT 0;
