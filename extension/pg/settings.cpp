#include "pg/settings.hpp"

#include "rules/connection_url.hpp"
#include "pg/boundary.hpp"
#include "pg/file_cloning.hpp"
#include "pg/setting_provenance.hpp"
#include "testing/fault_injection.hpp"

namespace claudable::settings {
namespace {

char* host_setting = nullptr;
int port_setting = 0;
char* sslmode_setting = nullptr;
char* template_setting = nullptr;
char* key_file_setting = nullptr;
int worker_start_timeout_setting = 30000;
int worker_timeout_setting = 300000;
int connection_limit_setting = -1;
char* role_settings_setting = nullptr;
int max_database_size_mb_setting = 0;
int max_projects_setting = -1;
int max_projects_per_owner_setting = -1;
int spare_databases_setting = 0;
int worker_idle_timeout_setting = 2000;
char* pooler_host_setting = nullptr;
int pooler_port_setting = 6432;
char* pooler_auth_user_setting = nullptr;
int max_snapshots_per_project_setting = -1;
int max_branches_per_project_setting = -1;
int branch_ttl_setting = 0;
int file_copy_threshold_kb_setting = 64 * 1024;
enum FileCopyMethodSetting { file_copy_auto, file_copy_copy, file_copy_clone };
int file_copy_method_setting = file_copy_auto;
const config_enum_entry file_copy_method_options[] = {
    {"auto", file_copy_auto, false}, {"copy", file_copy_copy, false}, {"clone", file_copy_clone, false}, {nullptr, 0, false}};

// "name=value, name=value": names as PostgreSQL spells settings, values without quotes,
// backslashes or commas. Returns false and a reason for anything else.
bool split_role_settings(const char* text, std::vector<std::pair<std::string, std::string>>& out, std::string& why) {
    std::string item;
    auto flush = [&]() -> bool {
        std::size_t begin = item.find_first_not_of(" \t"), end = item.find_last_not_of(" \t");
        if (begin == std::string::npos) { why = "an empty item"; return false; }
        item = item.substr(begin, end - begin + 1);
        std::size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) { why = "an item that is not name=value"; return false; }
        std::string name = item.substr(0, eq), value = item.substr(eq + 1);
        while (!name.empty() && name.back() == ' ') name.pop_back();
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        for (char c : name)
            if (!((c >= 'a' && c <= 'z') || c == '_' || c == '.' || (c >= '0' && c <= '9'))) { why = "a setting name with characters other than a-z, 0-9, _ and ."; return false; }
        for (char c : value)
            if (c == '\'' || c == '"' || c == '\\' || c < ' ') { why = "a value with a quote, backslash or control character"; return false; }
        out.emplace_back(name, value);
        item.clear();
        return true;
    };
    if (text == nullptr || *text == '\0') return true;
    for (const char* p = text; ; ++p) {
        if (*p == ',' || *p == '\0') {
            if (!flush()) return false;
            if (*p == '\0') return true;
        } else {
            item += *p;
        }
    }
}

// The setting names in `text`, NUL-separated into `names` (which has room for `text`
// and one more NUL), or false and the reason in `why`. Every C++ object it makes is gone
// when it returns, so its caller may call into PostgreSQL afterwards.
bool collect_setting_names(const char* text, char* names, std::size_t names_size, char* why,
                           std::size_t why_size) noexcept {
    try {
        std::vector<std::pair<std::string, std::string>> pairs;
        std::string reason;
        if (!split_role_settings(text, pairs, reason)) {
            snprintf(why, why_size, "%s", reason.c_str());
            return false;
        }
        std::size_t at = 0;
        for (const auto& pair : pairs) {
            if (at + pair.first.size() + 2 > names_size) break;  // cannot happen: names are shorter than text
            memcpy(names + at, pair.first.c_str(), pair.first.size() + 1);
            at += pair.first.size() + 1;
        }
        names[at] = '\0';
        return true;
    } catch (...) {
        snprintf(why, why_size, "%s", "a value that could not be read");
        return false;
    }
}

// Called by the GUC machinery. PostgreSQL calls (GetConfigOption, GUC_check_errdetail)
// are made only where no C++ object is alive, since either may raise an ERROR.
bool check_role_settings(char** value, void** extra, GucSource source) noexcept {
    const char* text = *value != nullptr ? *value : "";
    const std::size_t names_size = strlen(text) + 2;
    char* names = static_cast<char*>(palloc0(names_size));
    char why[160];
    if (!collect_setting_names(text, names, names_size, why, sizeof why)) {
        GUC_check_errdetail("claudable.role_settings has %s; write name=value, name=value.", why);
        return false;
    }
    for (const char* name = names; *name != '\0'; name += strlen(name) + 1)
        if (GetConfigOption(name, true, false) == nullptr) {
            GUC_check_errdetail("claudable.role_settings names \"%s\", which is not a known setting.", name);
            return false;
        }
    return true;
}

// Called by PostgreSQL's GUC machinery: must not throw.
bool check_sslmode(char** value, void** extra, GucSource source) noexcept {
    if (*value == nullptr || **value == '\0' || is_valid_sslmode(*value)) return true;
    GUC_check_errdetail("claudable.sslmode must be empty or one of disable, allow, prefer, require, verify-ca, verify-full.");
    return false;
}

// clone needs PostgreSQL 18's file_copy_method (pg/file_cloning.hpp).
bool check_file_copy_method(int* value, void** extra, GucSource source) noexcept {
    if (*value != file_copy_clone || pg::server_has_file_copy_method()) return true;
    GUC_check_errdetail("claudable.file_copy_method = clone needs PostgreSQL 18 or later (file_copy_method); "
                        "this server is %s.", PG_VERSION);
    GUC_check_errhint("Use auto or copy on this server.");
    return false;
}

bool check_host(char** value, void** extra, GucSource source) noexcept {
    if (*value != nullptr && is_valid_host(*value)) return true;
    GUC_check_errdetail("A host is a DNS name, an IPv4 address or an IPv6 literal, without brackets, port or path.");
    return false;
}

bool check_optional_host(char** value, void** extra, GucSource source) noexcept {
    return *value == nullptr || **value == '\0' || check_host(value, extra, source);
}

// A role name as PostgreSQL stores it (at most NAMEDATALEN - 1 bytes); whether the role
// exists is asked when it is used, since settings are read before any catalog is.
bool check_optional_role_name(char** value, void** extra, GucSource source) noexcept {
    if (*value == nullptr || **value == '\0') return true;
    if (strlen(*value) < NAMEDATALEN) return true;
    GUC_check_errdetail("A role name has at most %d bytes.", NAMEDATALEN - 1);
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
                                   nullptr, &host_setting, "localhost", PGC_SUSET, 0, check_host, nullptr,
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
                                   "File holding the key that encrypts stored passwords, outside the data "
                                   "directory and every backup; empty keeps the key in the metadata database.",
                                   nullptr, &key_file_setting, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
        DefineCustomIntVariable("claudable.worker_start_timeout",
                                "How long a call waits for a free background worker slot.", nullptr,
                                &worker_start_timeout_setting, 30000, 0, INT_MAX, PGC_SUSET, GUC_UNIT_MS, nullptr,
                                nullptr, nullptr);
        DefineCustomIntVariable("claudable.worker_timeout",
                                "How long a call waits for its provisioning worker to finish.", nullptr,
                                &worker_timeout_setting, 300000, 1000, INT_MAX, PGC_SUSET, GUC_UNIT_MS, nullptr,
                                nullptr, nullptr);
        DefineCustomIntVariable("claudable.connection_limit",
                                "CONNECTION LIMIT of each new project's role and database; -1 means none.", nullptr,
                                &connection_limit_setting, -1, -1, INT_MAX, PGC_SUSET, 0, nullptr, nullptr, nullptr);
        DefineCustomStringVariable("claudable.role_settings",
                                   "Settings given to each project's role, as name=value, name=value.", nullptr,
                                   &role_settings_setting, "", PGC_SUSET, 0, check_role_settings, nullptr, nullptr);
        DefineCustomIntVariable("claudable.max_database_size",
                                "Size above which claudable_enforce_quotas() makes a project database read-only; "
                                "0 means none.",
                                nullptr, &max_database_size_mb_setting, 0, 0, INT_MAX, PGC_SUSET, GUC_UNIT_MB, nullptr,
                                nullptr, nullptr);
        DefineCustomIntVariable("claudable.max_projects",
                                "How many projects this server may hold; -1 means no limit.", nullptr,
                                &max_projects_setting, -1, -1, INT_MAX, PGC_SUSET, 0, nullptr, nullptr, nullptr);
        DefineCustomIntVariable("claudable.max_projects_per_owner",
                                "How many projects one owner_id may hold; -1 means no limit.", nullptr,
                                &max_projects_per_owner_setting, -1, -1, INT_MAX, PGC_SUSET, 0, nullptr, nullptr,
                                nullptr);
        // Server-wide, like the pool it sizes: postgresql.conf or ALTER SYSTEM, then a reload.
        DefineCustomIntVariable("claudable.spare_databases",
                                "How many ready spare databases the extension keeps for new projects; 0 keeps none.",
                                nullptr, &spare_databases_setting, 0, 0, 1000, PGC_SIGHUP, 0, nullptr, nullptr,
                                nullptr);
        // Under DROP DATABASE's own 5 s wait for other sessions by default, so an idle
        // worker never makes dropping or renaming the metadata database fail.
        DefineCustomIntVariable("claudable.worker_idle_timeout",
                                "How long a provisioning worker waits for another call before it exits; 0 means "
                                "one worker per call.",
                                nullptr, &worker_idle_timeout_setting, 2000, 0, 3600000, PGC_SIGHUP, GUC_UNIT_MS,
                                nullptr, nullptr, nullptr);
        // The pooled endpoint in front of this server (PgBouncer, README "Fleet"): the same
        // for every project, so apps keep their pooled URL when servers are added.
        DefineCustomStringVariable("claudable.pooler_host",
                                   "Host of the connection pooler in front of this server; empty means "
                                   "claudable_provision returns no pooled_database_url.",
                                   nullptr, &pooler_host_setting, "", PGC_SUSET, 0, check_optional_host, nullptr, nullptr);
        DefineCustomIntVariable("claudable.pooler_port", "Port of the connection pooler in front of this server.",
                                nullptr, &pooler_port_setting, 6432, 1, 65535, PGC_SUSET, 0, nullptr, nullptr,
                                nullptr);
        // Server-wide, like the spare pool, whose databases are made ready for it.
        DefineCustomStringVariable("claudable.pooler_auth_user",
                                   "The role PgBouncer's auth_query logs in as; when set, every project database "
                                   "gets the verifier lookup and grants it CONNECT, so pooled URLs work at once.",
                                   nullptr, &pooler_auth_user_setting, "", PGC_SIGHUP, 0, check_optional_role_name,
                                   nullptr, nullptr);
        DefineCustomIntVariable("claudable.max_snapshots_per_project",
                                "How many snapshots one project may keep (a restore's own included); -1 means no "
                                "limit.",
                                nullptr, &max_snapshots_per_project_setting, -1, -1, INT_MAX, PGC_SUSET, 0, nullptr,
                                nullptr, nullptr);
        DefineCustomIntVariable("claudable.max_branches_per_project",
                                "How many branches one project may have; -1 means no limit.", nullptr,
                                &max_branches_per_project_setting, -1, -1, INT_MAX, PGC_SUSET, 0, nullptr, nullptr,
                                nullptr);
        DefineCustomIntVariable("claudable.branch_ttl",
                                "How long a new branch lives before claudable_reconcile() removes it, unless "
                                "claudable_branch is given expires_at; 0 means until deprovisioned.",
                                nullptr, &branch_ttl_setting, 0, 0, INT_MAX, PGC_SUSET, GUC_UNIT_S, nullptr, nullptr,
                                nullptr);
        // Measured (BENCHMARKS.md): WAL_LOG copies a small database faster than FILE_COPY's
        // two checkpoints; past some size writing every block to WAL costs more.
        DefineCustomIntVariable("claudable.file_copy_threshold",
                                "Databases at least this large are copied (snapshot, restore, branch) with "
                                "STRATEGY FILE_COPY, smaller ones with WAL_LOG.",
                                nullptr, &file_copy_threshold_kb_setting, 64 * 1024, 0, INT_MAX, PGC_SUSET,
                                GUC_UNIT_KB, nullptr, nullptr, nullptr);
        DefineCustomEnumVariable("claudable.file_copy_method",
                                 "How STRATEGY FILE_COPY copies files on PostgreSQL 18 and later: clone, copy, "
                                 "or auto (clone where the data directory's file system shares blocks).",
                                 nullptr, &file_copy_method_setting, file_copy_auto, file_copy_method_options,
                                 PGC_SUSET, 0, check_file_copy_method, nullptr, nullptr);
    });
}

void reserve_prefix() {
    pg::call([]() noexcept { MarkGUCPrefixReserved("claudable"); });
}

Values current() {
    require_server_values();
    // PostPortNumber and DataDir are plain globals set at backend start.
    return Values{text_or(host_setting, "localhost"),
                  port_setting != 0 ? port_setting : PostPortNumber,
                  text_or(sslmode_setting, ""),
                  text_or(template_setting, "template0"),
                  text_or(key_file_setting, ""),
                  worker_start_timeout_setting,
                  worker_timeout_setting,
                  connection_limit_setting,
                  text_or(role_settings_setting, ""),
                  static_cast<long long>(max_database_size_mb_setting) * 1024 * 1024,
                  max_projects_setting,
                  max_projects_per_owner_setting,
                  spare_databases_setting,
                  worker_idle_timeout_setting,
                  text_or(pooler_host_setting, ""),
                  pooler_port_setting,
                  text_or(pooler_auth_user_setting, ""),
                  max_snapshots_per_project_setting,
                  max_branches_per_project_setting,
                  branch_ttl_setting,
                  static_cast<long long>(file_copy_threshold_kb_setting) * 1024,
                  file_copy_method_options[file_copy_method_setting].name};
}

std::vector<std::pair<std::string, std::string>> parse_role_settings(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> pairs;
    std::string why;
    if (!split_role_settings(text.c_str(), pairs, why))
        fail(sqlstate::invalid_parameter_value, "claudable.role_settings has " + why);
    return pairs;
}

}  // namespace claudable::settings

#ifdef CLAUDABLE_FAULT_INJECTION
// The test builds' claudable.fault_point (testing/fault_injection.hpp): defined here, with
// the other settings, since it is a GUC; the fault points themselves live in testing/.
namespace claudable {
namespace {

char* fault_point_setting = nullptr;

bool check_fault_point(char** value, void** extra, GucSource source) noexcept {
    if (*value == nullptr || **value == '\0') return true;
    for (const char* point : fault_points)
        if (strcmp(*value, point) == 0) return true;
    GUC_check_errdetail("Known fault points: before_reservation, after_reservation, after_role, after_database, before_ready, "
                        "deprovision_marked, deprovision_locked_out, claim_locked, claim_renamed, claim_recorded.");
    return false;
}

}  // namespace

void define_fault_injection_setting() {
    pg::call([]() noexcept {
        DefineCustomStringVariable("claudable.fault_point",
                                   "Test builds only: the provisioning step at which the worker parks.", nullptr,
                                   &fault_point_setting, "", PGC_SUSET, 0, check_fault_point, nullptr, nullptr);
    });
}

std::string armed_fault_point() {
    return fault_point_setting != nullptr ? fault_point_setting : "";
}

}  // namespace claudable
#endif
