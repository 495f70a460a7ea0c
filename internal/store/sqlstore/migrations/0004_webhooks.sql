-- The event log, webhook endpoints and their delivery queue.
--
-- webhook_deliveries.seq orders each endpoint's queue. It is BIGSERIAL:
-- PostgreSQL fills it from a sequence; on SQLite BIGSERIAL is only a type
-- name (NUMERIC affinity, stored as an integer) and sqlstore writes
-- MAX(seq)+n itself, which is safe because SQLite has one writer.
CREATE TABLE events (
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    type        TEXT NOT NULL,
    object_type TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX events_created ON events (project_id, created_at);

CREATE TABLE webhook_endpoints (
    project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    url           TEXT NOT NULL,
    all_events    BOOLEAN NOT NULL,
    events        TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    deleted_at    BIGINT,
    PRIMARY KEY (project_id, id)
);

-- The event filter, one row per type, so AppendEvent matches in SQL.
CREATE TABLE webhook_endpoint_events (
    project_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    PRIMARY KEY (project_id, webhook_id, event_type),
    FOREIGN KEY (project_id, webhook_id) REFERENCES webhook_endpoints(project_id, id) ON DELETE CASCADE
);

CREATE TABLE webhook_deliveries (
    seq          BIGSERIAL PRIMARY KEY,
    project_id   TEXT NOT NULL,
    webhook_id   TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    next_attempt BIGINT NOT NULL,
    lease_until  BIGINT,
    last_error   TEXT NOT NULL,
    last_status  INTEGER NOT NULL,
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT,
    FOREIGN KEY (project_id, webhook_id) REFERENCES webhook_endpoints(project_id, id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, event_id) REFERENCES events(project_id, id) ON DELETE CASCADE
);
-- The lease query finds each endpoint's head here, so its cost follows the
-- number of endpoints, not the backlog of a receiver that is down.
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (project_id, webhook_id, seq) WHERE status IN ('pending', 'sending');
-- Listing and replay.
CREATE INDEX webhook_deliveries_project ON webhook_deliveries (project_id, seq);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (project_id, event_id);
