// bailian-hub: the command line. One file, one function per subcommand.
#include <CLI/CLI.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/app.hpp"
#include "app/backup.hpp"
#include "app/store_open.hpp"
#include "app/config.hpp"
#include "app/healthcheck.hpp"
#include "http/tls.hpp"

namespace {

constexpr int kConfigError = 2;

// Loads --config (if any) and the environment; on error prints one line and returns nullopt.
std::optional<hub::app::Config> Load(const std::string& path) {
    std::string text;
    if (!path.empty()) {
        std::ifstream in(path);
        if (!in) {
            std::cerr << "bailian-hub: config: cannot read " << path << "\n";
            return std::nullopt;
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        text = ss.str();
        if (text.empty()) text = "\n";
    }
    auto cfg = hub::app::LoadConfig(text, path, hub::app::ProcessEnvironment());
    if (!cfg.ok()) {
        std::cerr << "bailian-hub: " << cfg.error().public_message << "\n";
        return std::nullopt;
    }
    return std::move(cfg.value());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Bailian Hub: a self-hosted, multi-user platform in front of Alibaba Cloud "
                 "Model Studio (DashScope)."};
    app.require_subcommand(1);
    std::string config_path;
    app.add_option("-c,--config", config_path, "TOML configuration file (environment overrides it)")
        ->check(CLI::ExistingFile);

    auto* serve = app.add_subcommand("serve", "Start the server (SQLite under ./var by default)");
    auto* migrate = app.add_subcommand("migrate", "Apply pending database migrations and exit");
    auto* version = app.add_subcommand("version", "Print the version and exit");
    auto* routes = app.add_subcommand(
        "routes", "Print the routes the server would answer (METHOD PATTERN lines) and exit");

    std::string health_url;
    int health_timeout_ms = 3000;
    auto* healthcheck = app.add_subcommand(
        "healthcheck", "GET /healthz of the hub on this machine (127.0.0.1, the configured port) "
                       "and exit 0 on 200, else 1: for container health checks");
    healthcheck->add_option("--url", health_url,
                            "probe this URL instead (http:// to loopback only, or https://), "
                            "e.g. http://127.0.0.1:9000/_sim/health");
    healthcheck->add_option("--timeout-ms", health_timeout_ms, "connect and answer deadline")
        ->capture_default_str()
        ->check(CLI::Range(1, 60000));

    auto* admin = app.add_subcommand("admin", "Manage users from the command line");
    admin->require_subcommand(1);
    std::string username, email, role = "user";
    bool password_stdin = false;
    auto* create_user = admin->add_subcommand(
        "create-user", "Create a user; without --password-stdin a password is generated and "
                       "printed once");
    create_user->add_option("--username", username, "3-32 of [A-Za-z0-9_.-]")->required();
    create_user->add_option("--email", email, "e-mail address")->required();
    create_user->add_option("--role", role, "user | admin | auditor")->capture_default_str();
    create_user->add_flag("--password-stdin", password_stdin,
                          "read the password from the first line of standard input");
    std::string set_role_user, set_role_role;
    auto* set_role = admin->add_subcommand("set-role", "Change a user's role");
    set_role->add_option("--username", set_role_user, "username or e-mail")->required();
    set_role->add_option("--role", set_role_role, "user | admin | auditor")->required();

    auto* keys = app.add_subcommand("keys", "Manage upstream DashScope keys (encrypted at rest)");
    keys->require_subcommand(1);
    std::string key_name, key_id;
    int key_weight = 1;
    auto* keys_add = keys->add_subcommand("add", "Add a key; the secret is read from standard input");
    keys_add->add_option("--name", key_name, "a name for the key")->required();
    keys_add->add_option("--weight", key_weight, "share of traffic, 1-1000")->capture_default_str();
    auto* keys_list = keys->add_subcommand("list", "List keys (only the last 4 characters)");
    auto* keys_rotate = keys->add_subcommand(
        "rotate", "Replace a key's secret (read from standard input); in-flight work finishes");
    keys_rotate->add_option("--id", key_id, "key id")->required();
    auto* keys_disable = keys->add_subcommand("disable", "Stop using a key");
    keys_disable->add_option("--id", key_id, "key id")->required();
    auto* keys_enable = keys->add_subcommand("enable", "Use a disabled key again");
    keys_enable->add_option("--id", key_id, "key id")->required();

    auto* jwt = app.add_subcommand("jwt", "Manage the access-token signing keys");
    jwt->require_subcommand(1);
    auto* jwt_rotate = jwt->add_subcommand(
        "rotate", "Add a new signing key; old public keys stay published until their tokens "
                  "expire");
    auto* tls = app.add_subcommand("tls", "HTTPS certificates");
    tls->require_subcommand(1);
    auto* tls_self_signed = tls->add_subcommand(
        "self-signed", "Make a key and a self-signed certificate for trying HTTPS locally");
    std::string tls_out;
    std::vector<std::string> tls_hosts;
    int tls_days = 90;
    tls_self_signed->add_option("--out", tls_out, "Folder for cert.pem and key.pem")->required();
    tls_self_signed->add_option("--host", tls_hosts,
                                "Extra host name or IP address (localhost, 127.0.0.1 and ::1 are "
                                "always in it); repeat for more");
    tls_self_signed->add_option("--days", tls_days, "Validity in days (1 to 3650)");
    auto* db = app.add_subcommand("db", "Database tools");
    db->require_subcommand(1);
    std::string copy_from, copy_to;
    auto* db_copy = db->add_subcommand(
        "copy", "Copy every row of one database into another, empty one (e.g. SQLite to "
                "MySQL/MariaDB), verifying the counts; needs no configuration");
    db_copy->add_option("--from", copy_from, "source: sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DB")
        ->required();
    db_copy->add_option("--to", copy_to, "target (migrated here if needed; must hold no data)")
        ->required();
    hub::app::BackupCommandOptions backup_opts;
    auto* backup = app.add_subcommand(
        "backup", "Write a backup (database snapshot, stored files, manifest) while the hub "
                  "serves; encrypted when a passphrase is given");
    backup->add_option("--out", backup_opts.out, "the backup file to write")->required();
    backup->add_option("--passphrase-file", backup_opts.passphrase_file,
                       "encrypt with the passphrase on this file's first line (else "
                       "BAILIAN_HUB_BACKUP_PASSPHRASE, else not encrypted)")
        ->check(CLI::ExistingFile);
    backup->add_flag("--include-master-key", backup_opts.include_master_key,
                     "also put the master key in the backup (keep it apart instead: see "
                     "docs/operations.md)");
    hub::app::RestoreCommandOptions restore_opts;
    std::string restore_data_dir;
    auto* restore = app.add_subcommand(
        "restore", "Restore a backup into an empty data folder, checking every checksum first");
    restore->add_option("--from", restore_opts.from, "the backup file")
        ->required()
        ->check(CLI::ExistingFile);
    restore->add_option("--passphrase-file", restore_opts.passphrase_file,
                        "the passphrase of an encrypted backup (else "
                        "BAILIAN_HUB_BACKUP_PASSPHRASE)")
        ->check(CLI::ExistingFile);
    restore->add_option("--data-dir", restore_data_dir,
                        "the (empty) data folder to restore into; default: the configured one");
    app.footer(
        "Configuration keys and their environment variables: see "
        "config/bailian-hub.example.toml.\nExit codes: 0 ok, 1 failure, 2 bad configuration.");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : kConfigError;
    }

    if (version->parsed()) {
        std::cout << "bailian-hub " << hub::app::kVersion << "\n";
        return 0;
    }
    if (tls_self_signed->parsed()) {  // needs no configuration
        auto cert = hub::http::WriteSelfSigned(tls_out, tls_hosts, tls_days);
        if (!cert.ok()) {
            std::cerr << "bailian-hub: " << cert.error().public_message << "\n";
            return kConfigError;
        }
        std::cout << "certificate: " << *cert << "\nkey: " << tls_out << "/key.pem (0600)\n"
                  << "try: BAILIAN_HUB_TLS_CERT=" << *cert << " BAILIAN_HUB_TLS_KEY=" << tls_out
                  << "/key.pem bailian-hub serve\n";
        return 0;
    }
    if (db_copy->parsed()) return hub::app::DbCopyCommand(copy_from, copy_to);
    // With --url the probe needs no configuration (a container of bailian-sim has none).
    if (healthcheck->parsed() && !health_url.empty())
        return hub::app::HealthcheckCommand(hub::app::Config{}, health_url,
                                            std::chrono::milliseconds(health_timeout_ms));
    auto cfg = Load(config_path);
    if (!cfg) return kConfigError;
    if (serve->parsed()) return hub::app::Serve(*cfg);
    if (healthcheck->parsed())
        return hub::app::HealthcheckCommand(*cfg, health_url,
                                            std::chrono::milliseconds(health_timeout_ms));
    if (backup->parsed()) return hub::app::BackupCommand(*cfg, backup_opts);
    if (restore->parsed()) {
        if (!restore_data_dir.empty()) cfg->data_dir = restore_data_dir;
        return hub::app::RestoreCommand(*cfg, restore_opts);
    }
    if (routes->parsed()) return hub::app::Serve(*cfg, hub::app::ServeMode::kPrintRoutes);
    if (migrate->parsed()) return hub::app::Migrate(*cfg);
    if (create_user->parsed())
        return hub::app::CreateUserCommand(*cfg, username, email, role, password_stdin);
    if (set_role->parsed()) return hub::app::SetRoleCommand(*cfg, set_role_user, set_role_role);
    if (jwt_rotate->parsed()) return hub::app::RotateJwtCommand(*cfg);
    if (keys_add->parsed()) return hub::app::KeysCommand(*cfg, "add", key_name, key_weight);
    if (keys_list->parsed()) return hub::app::KeysCommand(*cfg, "list", "", 0);
    if (keys_rotate->parsed()) return hub::app::KeysCommand(*cfg, "rotate", key_id, 0);
    if (keys_disable->parsed()) return hub::app::KeysCommand(*cfg, "disable", key_id, 0);
    if (keys_enable->parsed()) return hub::app::KeysCommand(*cfg, "enable", key_id, 0);
    return kConfigError;
}
