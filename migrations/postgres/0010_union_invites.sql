-- A union's registration link: workers who open it register straight into that union, however
-- deep it sits in the tree (the public form lists only the Annex 1 level). The union's admin
-- shares it as a link or QR code and can replace it when it has spread too far.
CREATE TABLE union_invites (
    org_id BIGINT PRIMARY KEY REFERENCES orgs(id),
    token TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
