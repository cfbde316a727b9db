#pragma once
// Internal to the stores: the repositories of work that runs once (leases, image tasks) and the
// InsertApiCallOn (repos.hpp) they share with the api_calls repository.
#include <memory>

#include "store/image_tasks.hpp"
#include "store/leases.hpp"
#include "store/sql/repos.hpp"

namespace hub::store::sql {

std::unique_ptr<LeaseStore> MakeLeaseStore(RepoContext ctx);
std::unique_ptr<ImageTaskStore> MakeImageTaskStore(RepoContext ctx);

}  // namespace hub::store::sql
