-- Several lecturers per lecture, each with their own assignment: the city or the city's 网信办
-- assigns, the lecturer confirms or declines (with a reason) through the assignment's own link.
-- A lecture is confirmed (becomes the requesting unit's activity) when every assignment that
-- is not declined is confirmed. The old single-lecturer columns of `lectures` (member_id,
-- confirm_token) are copied here and no longer read.
CREATE TABLE lecture_assignments (
    id INTEGER PRIMARY KEY,
    lecture_id INTEGER NOT NULL REFERENCES lectures(id),
    member_id INTEGER NOT NULL REFERENCES lecture_members(id),
    -- assigned, confirmed, declined
    status TEXT NOT NULL DEFAULT 'assigned',
    -- 128 random bits, hex: this lecturer's link; unguessable.
    token TEXT NOT NULL UNIQUE,
    decline_reason TEXT,
    assigned_by INTEGER REFERENCES users(id),
    assigned_at INTEGER NOT NULL,
    responded_at INTEGER
);
CREATE INDEX lecture_assignments_lecture ON lecture_assignments(lecture_id, status);
CREATE INDEX lecture_assignments_member ON lecture_assignments(member_id, status);
-- A lecturer is on a lecture at most once unless they declined it.
CREATE UNIQUE INDEX lecture_assignments_live ON lecture_assignments(lecture_id, member_id)
    WHERE status <> 'declined';
INSERT INTO lecture_assignments (lecture_id, member_id, status, token, assigned_by, assigned_at, responded_at)
    SELECT id, member_id, CASE WHEN status = 'confirmed' THEN 'confirmed' ELSE 'assigned' END,
           confirm_token, assigned_by, created_at, confirmed_at
    FROM lectures WHERE member_id IS NOT NULL AND confirm_token IS NOT NULL;

-- 网络公开课: where it is held (platform, link) and the views the unit claims, with the
-- screenshot that shows them (a re-encoded image in the file store).
ALTER TABLE lectures ADD COLUMN online_platform TEXT NOT NULL DEFAULT '';
ALTER TABLE lectures ADD COLUMN online_link TEXT NOT NULL DEFAULT '';
ALTER TABLE lectures ADD COLUMN views_claimed INTEGER;
ALTER TABLE lectures ADD COLUMN views_screenshot TEXT;
