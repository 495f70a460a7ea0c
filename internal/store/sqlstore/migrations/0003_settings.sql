-- Project settings an operator sets with `latch projects update` (session
-- migration's UserInfo URL, rate-limit overrides), as one JSON object so a
-- new setting needs no migration.
ALTER TABLE projects ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';

-- The sender's IP and user agent, for otps.authenticate's match options.
ALTER TABLE otp_codes ADD COLUMN ip_address TEXT NOT NULL DEFAULT '';
ALTER TABLE otp_codes ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
