-- QR check-in: each activity's code, and who checked in (attendance proven, not typed in).

CREATE TABLE checkin_codes (
    activity_id INTEGER PRIMARY KEY REFERENCES activities(id) ON DELETE CASCADE,
    -- 128 random bits, hex: the QR code carries /c/{token}; unguessable, so a forged one is unknown.
    token TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE checkins (
    id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    phone TEXT,
    -- The same person checking in twice counts once: name plus phone, or plus unit.
    person_key TEXT NOT NULL,
    consent_version TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (activity_id, person_key)
);
