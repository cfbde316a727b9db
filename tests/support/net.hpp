#pragma once
// Loopback ports for the servers the unit tests start (MariaDB, Redis).

namespace hub::test {

// A port free on 127.0.0.1 right now (the kernel picks it; the caller binds it next). Throws
// std::runtime_error when no socket can be bound.
unsigned FreeLoopbackPort();

}  // namespace hub::test
