-- Escalation notices that reach people, and monitoring Tasks routed by address (issue #19 item 4).
--
-- inv_escalation.communication_id: the FHIR Communication (category alert) each notice is written
-- as, addressed to the team, its supervisor and the CDC, so it shows in their inbox; completed when
-- the notice is acknowledged.
-- inv_notice_outbox: one row per recipient and channel. 'inbox' rows are delivered when written
-- (the Communication is the inbox entry); 'sms' rows wait for the dispatcher, which hands them to
-- the transport (the portal's SMS gateway or the server log) and records the outcome, retrying
-- with backoff (partial index over the rows still queued).
-- inv_contact.team_organization: the organisation of the team following the contact (the
-- community health centre covering their street, or of their contract), so the centre's worklist
-- finds the contacts its teams follow; inv_visit.note: the hand-over note (协查) of a Task kept
-- by the investigation's owner for a contact living outside the district.

ALTER TABLE inv_escalation ADD COLUMN communication_id text;

CREATE TABLE inv_notice_outbox (
  id bigserial PRIMARY KEY,
  escalation_id bigint NOT NULL REFERENCES inv_escalation (id),
  channel text NOT NULL CHECK (channel IN ('inbox', 'sms')),
  recipient_kind text NOT NULL,
  recipient_ref text NOT NULL,
  recipient_display text,
  phone text,
  body text NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'discarded')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  provider_ref text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX inv_notice_outbox_due ON inv_notice_outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX inv_notice_outbox_escalation ON inv_notice_outbox (escalation_id);

ALTER TABLE inv_contact ADD COLUMN team_organization text;
CREATE INDEX inv_contact_team_organization ON inv_contact (team_organization, follow_up_end) WHERE status = 'monitoring';
ALTER TABLE inv_visit ADD COLUMN note text;
