// The claudable.* settings. All are superuser-only (PGC_SUSET): a caller of the
// SECURITY DEFINER function cannot steer where or how databases are created.
#pragma once

#include <string>

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
    std::string key_file;       // claudable.key_file, default <data directory>/claudable.key
    int worker_start_timeout_ms;  // claudable.worker_start_timeout
    int worker_timeout_ms;        // claudable.worker_timeout
};

// The values in force for the calling session, defaults resolved.
Values current();

}  // namespace claudable::settings
