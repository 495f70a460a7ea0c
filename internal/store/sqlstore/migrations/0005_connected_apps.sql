-- Connected Apps: OAuth 2.0 clients of a project's users, the users'
-- grants to them, authorization codes and the tokens issued from them.
-- Secrets, codes and refresh tokens are stored only as SHA-256 hex; lists
-- (URLs, resources) are JSON arrays as TEXT, scopes a space-separated string.
CREATE TABLE connected_apps (
    project_id                 TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    id                         TEXT NOT NULL,
    client_type                TEXT NOT NULL,
    name                       TEXT NOT NULL,
    description                TEXT NOT NULL,
    status                     TEXT NOT NULL,
    full_access_allowed        BOOLEAN NOT NULL,
    redirect_urls              TEXT NOT NULL,
    post_logout_redirect_urls  TEXT NOT NULL,
    access_token_expiry_minutes INTEGER NOT NULL,
    access_token_custom_audience TEXT NOT NULL,
    access_token_template      TEXT NOT NULL,
    id_token_template          TEXT NOT NULL,
    logo_url                   TEXT NOT NULL,
    bypass_consent_offline     BOOLEAN NOT NULL,
    creation_method            TEXT NOT NULL,
    secret_hash                TEXT NOT NULL,
    secret_last_four           TEXT NOT NULL,
    next_secret_hash           TEXT NOT NULL,
    next_secret_last_four      TEXT NOT NULL,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX connected_apps_created ON connected_apps (project_id, created_at, id);

CREATE TABLE connected_app_authorizations (
    project_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id, client_id),
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, client_id) REFERENCES connected_apps(project_id, id) ON DELETE CASCADE
);
CREATE INDEX connected_app_authorizations_client ON connected_app_authorizations (project_id, client_id);

CREATE TABLE connected_app_codes (
    project_id     TEXT NOT NULL,
    code_hash      TEXT NOT NULL,
    grant_id       TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    resources      TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    PRIMARY KEY (project_id, code_hash),
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, client_id) REFERENCES connected_apps(project_id, id) ON DELETE CASCADE
);
CREATE INDEX connected_app_codes_user ON connected_app_codes (project_id, user_id, client_id);
CREATE INDEX connected_app_codes_client ON connected_app_codes (project_id, client_id);
CREATE INDEX connected_app_codes_expiry ON connected_app_codes (expires_at);

CREATE TABLE connected_app_refresh_tokens (
    project_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    grant_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    resources  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (project_id, token_hash),
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, client_id) REFERENCES connected_apps(project_id, id) ON DELETE CASCADE
);
CREATE INDEX connected_app_refresh_tokens_grant ON connected_app_refresh_tokens (project_id, grant_id);
CREATE INDEX connected_app_refresh_tokens_user ON connected_app_refresh_tokens (project_id, user_id, client_id);
CREATE INDEX connected_app_refresh_tokens_client ON connected_app_refresh_tokens (project_id, client_id);
CREATE INDEX connected_app_refresh_tokens_expiry ON connected_app_refresh_tokens (expires_at);

-- One row per issued access token, by its jti. exchanged_at is set once, by
-- a conditional UPDATE, when the token is exchanged for a session.
CREATE TABLE connected_app_access_tokens (
    project_id   TEXT NOT NULL,
    jti          TEXT NOT NULL,
    grant_id     TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    issued_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    exchanged_at BIGINT,
    PRIMARY KEY (project_id, jti),
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, client_id) REFERENCES connected_apps(project_id, id) ON DELETE CASCADE
);
CREATE INDEX connected_app_access_tokens_grant ON connected_app_access_tokens (project_id, grant_id);
CREATE INDEX connected_app_access_tokens_user ON connected_app_access_tokens (project_id, user_id, client_id);
CREATE INDEX connected_app_access_tokens_client ON connected_app_access_tokens (project_id, client_id);
CREATE INDEX connected_app_access_tokens_expiry ON connected_app_access_tokens (expires_at);
