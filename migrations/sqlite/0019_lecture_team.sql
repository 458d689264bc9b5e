-- 天津市好网民宣讲团: the worker good-netizen models nominated by the district, bureau and
-- group-company unions (推荐), vetted by the city and jointly selected by the city union and the
-- 网信办 liaison, and the team's roster. The 公示 of the selected models is a `publicities` row
-- of kind 'models' whose entries name nominations (subject_kind 'model').
CREATE TABLE model_nominations (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    -- The nominating union (a district, bureau or group-company union).
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    -- The name as compared (no spaces, simplified characters) with the phone: one person.
    person_key TEXT NOT NULL,
    phone TEXT NOT NULL,
    workplace TEXT NOT NULL,
    post TEXT NOT NULL,
    political_status TEXT NOT NULL,
    accounts TEXT NOT NULL,
    deeds TEXT NOT NULL,
    summary TEXT NOT NULL,
    links TEXT NOT NULL,
    photo_key TEXT,
    consent_version TEXT NOT NULL,
    consent_at INTEGER NOT NULL,
    -- submitted, returned, shortlisted, endorsed, rejected, selected, withdrawn
    status TEXT NOT NULL DEFAULT 'submitted',
    return_reason TEXT,
    union_decision TEXT,
    union_reason TEXT,
    union_by INTEGER REFERENCES users(id),
    liaison_decision TEXT,
    liaison_reason TEXT,
    liaison_by INTEGER REFERENCES users(id),
    version INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (campaign_id, person_key, phone)
);
CREATE INDEX model_nominations_org ON model_nominations(campaign_id, org_id, status);

CREATE TABLE lecture_members (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    -- Set for a selected worker model; other members are added by the city or the 网信办.
    nomination_id INTEGER UNIQUE REFERENCES model_nominations(id),
    category TEXT NOT NULL,
    name TEXT NOT NULL,
    workplace TEXT NOT NULL,
    summary TEXT NOT NULL,
    photo_key TEXT,
    -- The member's consent to a public profile (version of the text they agreed to).
    consent_version TEXT NOT NULL,
    -- Retired members (retired_at set) keep their record but take no new lectures.
    retired_reason TEXT,
    retired_at INTEGER,
    added_by INTEGER REFERENCES users(id),
    added_at INTEGER NOT NULL
);
CREATE INDEX lecture_members_campaign ON lecture_members(campaign_id, retired_at);

-- 五进 lectures: a unit requests one (topic, form, venue type, place, time), the city or the
-- 网信办 assigns a lecturer from the roster, the lecturer confirms through a link given to them;
-- the confirmed lecture becomes the requesting unit's offline activity (report, photos, QR
-- check-in, approval chain), which `activity_id` names. Times are local `YYYY-MM-DDTHH:MM`, as
-- activities store them, so comparing the text compares the times.
CREATE TABLE lectures (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    topic TEXT NOT NULL,
    form TEXT NOT NULL,
    venue_type TEXT NOT NULL,
    place TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    -- requested, assigned, confirmed
    status TEXT NOT NULL DEFAULT 'requested',
    member_id INTEGER REFERENCES lecture_members(id),
    -- 128 random bits, hex: the lecturer's confirmation link; unguessable.
    confirm_token TEXT UNIQUE,
    activity_id INTEGER UNIQUE REFERENCES activities(id),
    requested_by INTEGER REFERENCES users(id),
    assigned_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER
);
CREATE INDEX lectures_member ON lectures(member_id, starts_at);
CREATE INDEX lectures_campaign ON lectures(campaign_id, starts_at);
