-- Emergency access (break-glass, issue #15): a time-boxed grant to one resident, with its reason,
-- the organisation told, and a review that a reviewer must close.
CREATE TABLE break_glass_grant (
  id            bigserial PRIMARY KEY,
  username      text NOT NULL,
  user_org      text,
  patient_id    text NOT NULL,
  owner_org     text,
  reason        text NOT NULL,
  purpose       text NOT NULL,
  granted_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  ended_at      timestamptz,
  notice_ref    text,
  review_status text NOT NULL DEFAULT 'open' CHECK (review_status IN ('open', 'justified', 'unjustified')),
  reviewed_by   text,
  reviewed_at   timestamptz,
  review_note   text
);
CREATE INDEX break_glass_grant_user ON break_glass_grant (username, expires_at);
CREATE INDEX break_glass_grant_open_reviews ON break_glass_grant (granted_at) WHERE review_status = 'open';
