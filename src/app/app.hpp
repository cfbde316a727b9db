#pragma once
// Composition root: config -> logging -> store -> executors -> services -> routes -> server.
#include "app/config.hpp"

namespace hub::app {

inline constexpr const char* kVersion = "0.1.0";

// kServe runs the server until SIGTERM/SIGINT. kPrintRoutes composes exactly the same server,
// prints its route table ("METHOD PATTERN" lines, the /metrics listener's included) on
// standard output and exits without listening. Returns the process exit code.
enum class ServeMode { kServe, kPrintRoutes };
int Serve(const Config& cfg, ServeMode mode = ServeMode::kServe);
// Applies pending migrations and prints what it did; returns the process exit code.
int Migrate(const Config& cfg);

}  // namespace hub::app

namespace hub::app {

// `admin create-user`: with password_stdin the password is read from standard input,
// otherwise one is generated and printed once.
int CreateUserCommand(const Config& cfg, const std::string& username, const std::string& email,
                      const std::string& role, bool password_stdin);
// `admin set-role`: refuses to demote the last active admin.
int SetRoleCommand(const Config& cfg, const std::string& username, const std::string& role);
// `jwt rotate`: adds a new signing key; older public keys stay published until their tokens
// have expired. Running servers pick it up on restart.
int RotateJwtCommand(const Config& cfg);
// `keys add|rotate|list|disable|enable`: upstream DashScope keys; secrets are read from
// standard input, never from the command line (it would show in `ps` and shell history).
int KeysCommand(const Config& cfg, const std::string& action, const std::string& name_or_id,
                int weight);

}  // namespace hub::app
