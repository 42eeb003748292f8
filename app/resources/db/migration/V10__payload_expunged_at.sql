-- When the event's payload was expunged (DELETE /v1/events/{id}/payload), set by the
-- projection from the journal's PayloadExpunged. The read model never held the payload.
ALTER TABLE events ADD COLUMN payload_expunged_at TIMESTAMPTZ;
