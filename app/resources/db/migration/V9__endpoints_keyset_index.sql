-- GET /v1/endpoints pages on (created_at, id) per tenant, and the cap on endpoints per
-- tenant counts them: one index serves both, a range scan from the cursor on. It replaces
-- the index on (tenant_id, created_at), which could not skip within equal created_at.
CREATE INDEX endpoints_tenant_page_idx ON endpoints (tenant_id, created_at, id) WHERE NOT deleted;
DROP INDEX endpoints_tenant_idx;
