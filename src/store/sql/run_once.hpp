#pragma once
// Internal to the stores: the repositories of work that runs once (leases, image tasks) and the
// one api_calls insert they share with the api_calls repository.
#include <memory>

#include "store/image_tasks.hpp"
#include "store/leases.hpp"
#include "store/sql/repos.hpp"

namespace hub::store::sql {

std::unique_ptr<LeaseStore> MakeLeaseStore(RepoContext ctx);
std::unique_ptr<ImageTaskStore> MakeImageTaskStore(RepoContext ctx);

// Inserts one api_calls row on `c`, inside the caller's transaction.
core::Result<void> InsertApiCallOn(Connection& c, const ApiCall& call);

}  // namespace hub::store::sql
