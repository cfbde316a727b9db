-- Issue 14: rate limits and budgets on model calls.

-- A user's own limits beside daily_tokens and rpm (NULL = the role's default).
ALTER TABLE user_quotas ADD COLUMN tpm INTEGER CHECK (tpm > 0);
ALTER TABLE user_quotas ADD COLUMN monthly_tokens INTEGER CHECK (monthly_tokens > 0);
ALTER TABLE user_quotas ADD COLUMN daily_cost_micro_cny INTEGER CHECK (daily_cost_micro_cny > 0);
ALTER TABLE user_quotas ADD COLUMN monthly_cost_micro_cny INTEGER CHECK (monthly_cost_micro_cny > 0);

-- A platform key's own rate limits, applied on top of its owner's (NULL = none of its own).
ALTER TABLE api_keys ADD COLUMN rpm INTEGER CHECK (rpm > 0);
ALTER TABLE api_keys ADD COLUMN tpm INTEGER CHECK (tpm > 0);
