#pragma once
// The image poller's writes that make its work happen once, even with several hubs and a
// poller that lost its lease while a step was in flight (docs/architecture.md, "Work that runs
// once"): submit once (the intent recorded first), record the task id once, settle and bill
// once. Kept beside ImageStore rather than in it, like LeaseStore beside Store (see leases.hpp).
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/result.hpp"
#include "store/images.hpp"
#include "store/models.hpp"

namespace hub::store {


class ImageTaskStore {
public:
    virtual ~ImageTaskStore() = default;

    // Settles a finished generation: sets accounted_at and inserts its api_calls row `call` in
    // ONE transaction, only when it was not settled yet. True when this call settled it; false
    // (nothing written) when it was already settled or is gone. A poller that lost its lease
    // and raced the new holder can therefore never bill a generation twice.
    virtual core::Result<bool> Settle(std::string_view id, const ApiCall& call,
                                      std::int64_t at_ms) = 0;
    // Records the intent to submit the generation upstream (submit_started_at), only when it
    // has neither a task id nor an earlier intent and has not ended: true when this call
    // recorded it (the caller may submit, once).
    virtual core::Result<bool> ClaimSubmit(std::string_view id, std::int64_t at_ms) = 0;
    // Withdraws the intent when the submit certainly failed (DashScope answered 429/5xx, or
    // nothing was sent), so that the generation may be submitted again.
    virtual core::Result<void> ReleaseSubmit(std::string_view id) = 0;
    // When a submit of the generation was begun and its task id is still unknown (nullopt:
    // never begun, withdrawn, or the task id is recorded).
    virtual core::Result<std::optional<std::int64_t>> SubmitStartedAt(std::string_view id) = 0;
    // Records the task id of a submitted generation, only when it has none yet and has not
    // ended: false when another poller ended it meanwhile (the task should then be cancelled).
    virtual core::Result<bool> RecordTask(std::string_view id, const GenerationPatch& patch) = 0;
};

}  // namespace hub::store
