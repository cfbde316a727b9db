#pragma once
// The model catalog from the configuration: built-in models, [[models.custom]] additions and
// re-pricings, disabled ids, the default model.
#include "app/config.hpp"
#include "core/result.hpp"
#include "services/models.hpp"

namespace hub::app {

core::Result<services::Catalog> MakeCatalog(const Config& cfg);

}  // namespace hub::app
