ALTER TABLE users ADD COLUMN failed_auths INTEGER NOT NULL DEFAULT 0;

CREATE TABLE otp_codes (
    project_id TEXT NOT NULL,
    method_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (project_id, method_id),
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE
);

CREATE TABLE passwords (
    project_id     TEXT NOT NULL,
    id             TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    hash           TEXT NOT NULL,
    requires_reset BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX passwords_user ON passwords (project_id, user_id);

CREATE TABLE totps (
    project_id    TEXT NOT NULL,
    id            TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    verified      BOOLEAN NOT NULL,
    last_step     BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE
);
CREATE INDEX totps_user ON totps (project_id, user_id);

CREATE TABLE recovery_codes (
    project_id TEXT NOT NULL,
    totp_id    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    code_sealed TEXT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (project_id, code_hash),
    FOREIGN KEY (project_id, totp_id) REFERENCES totps(project_id, id) ON DELETE CASCADE
);
CREATE INDEX recovery_codes_user ON recovery_codes (project_id, user_id);
