// The claudable.* settings. All are superuser-only (PGC_SUSET, or PGC_SIGHUP for the
// server-wide ones): a caller of the SECURITY DEFINER function cannot steer where or how
// databases are created.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace claudable::settings {

void define();  // from _PG_init
// Drops session placeholders for unknown claudable.* names; call after every
// claudable.* setting (fault injection's included) is defined.
void reserve_prefix();

struct Values {
    std::string host;           // claudable.host, default localhost
    int port;                   // claudable.port, default (0) this server's port
    std::string sslmode;        // claudable.sslmode, default empty: not in the URL
    std::string template_name;  // claudable.template, default template0
    std::string key_file;       // claudable.key_file; empty: the key is kept in claudable.key_material
    int worker_start_timeout_ms;  // claudable.worker_start_timeout
    int worker_timeout_ms;        // claudable.worker_timeout
    int connection_limit;         // claudable.connection_limit, -1: none
    std::string role_settings;    // claudable.role_settings, "name=value, ..."
    long long max_database_size;  // claudable.max_database_size in bytes, 0: none
    int max_projects;             // claudable.max_projects, -1: unlimited
    int max_projects_per_owner;   // claudable.max_projects_per_owner, -1: unlimited
    int spare_databases;          // claudable.spare_databases: the spare pool's size, 0: no pool
    int worker_idle_timeout_ms;   // claudable.worker_idle_timeout: how long a worker stays for the next call
    std::string pooler_host;      // claudable.pooler_host; empty: rows carry no pooled_database_url
    int pooler_port;              // claudable.pooler_port, default 6432 (PgBouncer's)
    std::string pooler_auth_user;  // claudable.pooler_auth_user: PgBouncer's auth_user; empty: none
    int max_snapshots_per_project;  // claudable.max_snapshots_per_project, -1: unlimited
    int max_branches_per_project;   // claudable.max_branches_per_project, -1: unlimited
    int branch_ttl_s;               // claudable.branch_ttl in seconds, 0: none
    long long file_copy_threshold;  // claudable.file_copy_threshold in bytes
    std::string file_copy_method;   // claudable.file_copy_method: "auto", "copy" or "clone"
};

// claudable.role_settings as (name, value) pairs; the syntax was checked when it was set.
std::vector<std::pair<std::string, std::string>> parse_role_settings(const std::string& text);

// The values in force for the calling session, defaults resolved.
Values current();

}  // namespace claudable::settings
