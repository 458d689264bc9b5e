-- Photos in activity reports. Only a re-encoded copy (orientation applied, every byte of
-- metadata gone) and a thumbnail are kept: the uploaded original, with its GPS and device
-- tags, is never stored.
CREATE TABLE activity_photos (
    id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    image_key TEXT NOT NULL,
    thumb_key TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    -- 64-bit difference hash: near-identical pictures differ in few bits.
    dhash INTEGER NOT NULL,
    uploaded_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX activity_photos_activity ON activity_photos(activity_id);

-- A photo that is the same as, or perceptually near, a photo in another report.
CREATE TABLE photo_matches (
    photo_id INTEGER NOT NULL REFERENCES activity_photos(id) ON DELETE CASCADE,
    other_photo_id INTEGER NOT NULL REFERENCES activity_photos(id) ON DELETE CASCADE,
    distance INTEGER NOT NULL,
    PRIMARY KEY (photo_id, other_photo_id)
);
CREATE INDEX photo_matches_other ON photo_matches(other_photo_id);
