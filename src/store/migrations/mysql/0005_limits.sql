-- Issue 14: rate limits and budgets on model calls (see the sqlite twin).

ALTER TABLE user_quotas
    ADD COLUMN tpm BIGINT NULL,
    ADD COLUMN monthly_tokens BIGINT NULL,
    ADD COLUMN daily_cost_micro_cny BIGINT NULL,
    ADD COLUMN monthly_cost_micro_cny BIGINT NULL;

ALTER TABLE api_keys
    ADD COLUMN rpm BIGINT NULL,
    ADD COLUMN tpm BIGINT NULL;
