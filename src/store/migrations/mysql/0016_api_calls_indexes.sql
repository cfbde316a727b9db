-- Every call writes one api_calls row, and every index is one more B-tree to update in its
-- commit. The two statistics indexes (0006) now carry id right after created_at, so that they
-- also serve the calls' list, newest first, per user and over everyone, in the order of its
-- keyset pages (created_at, id): the two indexes that served only the list are dropped. One
-- ALTER: InnoDB rebuilds the indexes online, and the table is never without one for the list.
ALTER TABLE api_calls
    DROP INDEX api_calls_user_time_idx,
    DROP INDEX api_calls_time_idx,
    DROP INDEX api_calls_user_stats_idx,
    DROP INDEX api_calls_stats_idx,
    ADD INDEX api_calls_user_stats_idx (
        user_id, created_at, id, model, status_code, error_code, input_tokens, output_tokens,
        image_count, cost_micro_cny, latency_ms, endpoint, api_key_id),
    ADD INDEX api_calls_stats_idx (
        created_at, id, model, status_code, error_code, input_tokens, output_tokens, image_count,
        cost_micro_cny, latency_ms, endpoint, api_key_id, user_id);
