-- Endpoint verification (challenge-response).

-- An endpoint whose verification has not passed receives no events: ingest's fan-out and
-- a targeted event select only endpoints where this is false. The entity's journal is the
-- truth; the index copies it with every change (EndpointIndex.upsert).
ALTER TABLE endpoints ADD COLUMN pending_verification BOOLEAN NOT NULL DEFAULT false;

-- The tenant's default: endpoints created, and URLs changed, without an explicit
-- `verify` are verified before they receive anything. Set by the admin (PATCH /v1/tenants/{id}).
ALTER TABLE tenants ADD COLUMN verify_endpoints BOOLEAN NOT NULL DEFAULT false;
