#pragma once
// Opaque identifiers: UUIDv7 strings (time-ordered, never sequential).
#include <cstdint>
#include <string>
#include <string_view>

namespace hub::core {

std::string NewId();                          // UUIDv7 from the system clock
std::string NewIdAt(std::int64_t epoch_ms);   // UUIDv7 for a given time (tests)
bool IsValidId(std::string_view s);           // canonical 8-4-4-4-12 lowercase hex
// Request ids: an inbound one is kept when it is 1..128 chars of [A-Za-z0-9._:-].
bool IsValidRequestId(std::string_view s);

// This process among the hubs that share a database and Redis: "<host>-<pid>-<8 hex>", fixed
// at the first call (lease holders, heartbeats, logs). Unique even when a restarted hub gets the
// same pid, or two hubs in containers share a host name.
const std::string& InstanceId();

}  // namespace hub::core
