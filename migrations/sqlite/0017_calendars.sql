-- Holiday arrangements loaded by the city, one per year, kept as the file's text (TOML). They
-- replace the built-in year of the same number. A 公示's working days are counted on them.
CREATE TABLE calendars (
    year INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    loaded_at INTEGER NOT NULL,
    loaded_by INTEGER REFERENCES users(id)
);
