#include "settings.hpp"

#include "connection_url.hpp"
#include "pg_boundary.hpp"

namespace claudable::settings {
namespace {

char* host_setting = nullptr;
int port_setting = 0;
char* sslmode_setting = nullptr;
char* template_setting = nullptr;
char* key_file_setting = nullptr;
int worker_start_timeout_setting = 30000;
int worker_timeout_setting = 300000;

// Called by PostgreSQL's GUC machinery: must not throw.
bool check_sslmode(char** value, void** extra, GucSource source) noexcept {
    if (*value == nullptr || **value == '\0' || is_valid_sslmode(*value)) return true;
    GUC_check_errdetail("claudable.sslmode must be empty or one of disable, allow, prefer, require, verify-ca, verify-full.");
    return false;
}

bool check_not_empty(char** value, void** extra, GucSource source) noexcept {
    if (*value != nullptr && **value != '\0') return true;
    GUC_check_errdetail("This setting must not be empty.");
    return false;
}

std::string text_or(const char* value, const std::string& fallback) {
    return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

}  // namespace

void define() {
    pg::call([]() noexcept {
        DefineCustomStringVariable("claudable.host", "Host name put into the connection details of new projects.",
                                   nullptr, &host_setting, "localhost", PGC_SUSET, 0, check_not_empty, nullptr,
                                   nullptr);
        DefineCustomIntVariable("claudable.port",
                                "Port put into the connection details of new projects; 0 means this server's port.",
                                nullptr, &port_setting, 0, 0, 65535, PGC_SUSET, 0, nullptr, nullptr, nullptr);
        DefineCustomStringVariable("claudable.sslmode", "sslmode appended to DATABASE_URL; empty leaves it out.",
                                   nullptr, &sslmode_setting, "", PGC_SUSET, 0, check_sslmode, nullptr, nullptr);
        DefineCustomStringVariable("claudable.template", "Template database of project databases.", nullptr,
                                   &template_setting, "template0", PGC_SUSET, 0, check_not_empty, nullptr,
                                   nullptr);
        DefineCustomStringVariable("claudable.key_file",
                                   "File holding the key that encrypts stored passwords; empty means "
                                   "claudable.key in the data directory.",
                                   nullptr, &key_file_setting, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
        DefineCustomIntVariable("claudable.worker_start_timeout",
                                "How long a call waits for a free background worker slot.", nullptr,
                                &worker_start_timeout_setting, 30000, 0, INT_MAX, PGC_SUSET, GUC_UNIT_MS, nullptr,
                                nullptr, nullptr);
        DefineCustomIntVariable("claudable.worker_timeout",
                                "How long a call waits for its provisioning worker to finish.", nullptr,
                                &worker_timeout_setting, 300000, 1000, INT_MAX, PGC_SUSET, GUC_UNIT_MS, nullptr,
                                nullptr, nullptr);
    });
}

void reserve_prefix() {
    pg::call([]() noexcept { MarkGUCPrefixReserved("claudable"); });
}

Values current() {
    // PostPortNumber and DataDir are plain globals set at backend start.
    return Values{text_or(host_setting, "localhost"),
                  port_setting != 0 ? port_setting : PostPortNumber,
                  text_or(sslmode_setting, ""),
                  text_or(template_setting, "template0"),
                  text_or(key_file_setting, std::string(DataDir) + "/claudable.key"),
                  worker_start_timeout_setting,
                  worker_timeout_setting};
}

}  // namespace claudable::settings
