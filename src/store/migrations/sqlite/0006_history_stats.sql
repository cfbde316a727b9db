-- Issue 13: history statistics without touching the table. Each index holds every column
-- the statistics read or filter on, so a range of a million rows is one index range scan:
-- per user (the history page) and over everyone (the admin console).
CREATE INDEX api_calls_user_stats_idx ON api_calls(
    user_id, created_at, model, status_code, error_code, input_tokens, output_tokens,
    image_count, cost_micro_cny, latency_ms, endpoint, api_key_id);
CREATE INDEX api_calls_stats_idx ON api_calls(
    created_at, model, status_code, error_code, input_tokens, output_tokens, image_count,
    cost_micro_cny, latency_ms, endpoint, api_key_id, user_id);

-- The audit log filtered by target (e.g. every change to one user).
CREATE INDEX audit_log_target_idx ON audit_log(target, created_at DESC, id DESC);
