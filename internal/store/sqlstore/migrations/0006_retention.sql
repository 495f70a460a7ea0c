-- The retention sweep finds old rows across projects by age.
CREATE INDEX events_age ON events (created_at);
CREATE INDEX outbox_age ON outbox (created_at);
