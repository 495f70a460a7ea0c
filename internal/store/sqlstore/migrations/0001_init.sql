-- One schema for SQLite and PostgreSQL: BIGINT unix microseconds for times,
-- TEXT for ids and JSON, BOOLEAN (integer affinity on SQLite).
CREATE TABLE projects (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    vertical     TEXT NOT NULL,
    environment  TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    public_token TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL
);

CREATE TABLE redirect_urls (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    url        TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    PRIMARY KEY (project_id, type, url)
);

CREATE TABLE users (
    project_id         TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    id                 TEXT NOT NULL,
    status             TEXT NOT NULL,
    first_name         TEXT NOT NULL,
    middle_name        TEXT NOT NULL,
    last_name          TEXT NOT NULL,
    full_name          TEXT NOT NULL,
    external_id        TEXT,
    trusted_metadata   TEXT,
    untrusted_metadata TEXT,
    roles              TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    lock_created_at    BIGINT,
    lock_expires_at    BIGINT,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX users_external_id ON users (project_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX users_created ON users (project_id, created_at, id);

CREATE TABLE emails (
    project_id TEXT NOT NULL,
    id         TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    address    TEXT NOT NULL,
    verified   BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX emails_address ON emails (project_id, address);
CREATE INDEX emails_user ON emails (project_id, user_id);

CREATE TABLE phone_numbers (
    project_id TEXT NOT NULL,
    id         TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    number     TEXT NOT NULL,
    verified   BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX phone_numbers_number ON phone_numbers (project_id, number);
CREATE INDEX phone_numbers_user ON phone_numbers (project_id, user_id);

CREATE TABLE sessions (
    project_id       TEXT NOT NULL,
    id               TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    started_at       BIGINT NOT NULL,
    last_accessed_at BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    attributes       TEXT NOT NULL,
    factors          TEXT NOT NULL,
    custom_claims    TEXT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user ON sessions (project_id, user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE magic_links (
    project_id     TEXT NOT NULL,
    token_hash     TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    email_id       TEXT NOT NULL,
    kind           TEXT NOT NULL,
    redirect_url   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    ip_address     TEXT NOT NULL,
    user_agent     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    PRIMARY KEY (project_id, token_hash),
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE
);
CREATE INDEX magic_links_email ON magic_links (project_id, email_id);

CREATE TABLE outbox (
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    id           TEXT PRIMARY KEY,
    channel      TEXT NOT NULL,
    provider     TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body_text    TEXT NOT NULL,
    body_html    TEXT NOT NULL,
    link         TEXT NOT NULL,
    token        TEXT NOT NULL,
    code         TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    next_attempt BIGINT NOT NULL,
    lease_until  BIGINT,
    last_error   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    sent_at      BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt);
CREATE INDEX outbox_recipient ON outbox (project_id, recipient, created_at);

CREATE TABLE signing_keys (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kid        TEXT NOT NULL,
    private    TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    active_at  BIGINT NOT NULL,
    retired_at BIGINT,
    PRIMARY KEY (project_id, kid)
);
