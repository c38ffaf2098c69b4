// The request a calling backend hands its provisioning worker, and the reply, laid
// out in one dynamic shared memory segment. Plain data only: both processes map it.
#pragma once

#include <cstdint>

#include "postgres_headers.hpp"

namespace claudable {

inline constexpr std::uint32_t exchange_magic = 0x636c6401;  // "cld" v1
inline constexpr std::size_t max_id_bytes = 129;             // 128 characters + NUL
inline constexpr std::size_t max_sealed_bytes = 128;
inline constexpr std::size_t max_message_bytes = 1024;

enum class WorkerOutcome : std::int32_t { none = 0, ready = 1, failed = 2 };
inline constexpr std::size_t max_role_settings_bytes = 1024;

struct ProvisionExchange {
    std::uint32_t magic;

    // Request, written by the caller before the worker is registered.
    Oid database_id;
    Oid role_id;
    char project_id[max_id_bytes];
    char owner_id[max_id_bytes];
    char template_name[NAMEDATALEN];
    char key_file[MAXPGPATH];
    char host[256];
    std::int32_t port;
    std::int32_t job;  // WorkerJob
    char fault_point[32];
    char actor[NAMEDATALEN];  // the caller's session_user, for the audit trail
    std::int32_t connection_limit;
    char role_settings[max_role_settings_bytes];
    std::int32_t max_projects;
    std::int32_t max_projects_per_owner;
    std::int32_t worker_start_timeout_ms;
    std::int32_t worker_timeout_ms;

    // Reply, written by the worker before it exits.
    WorkerOutcome outcome;
    bool created;
    bool found;
    char database_name[NAMEDATALEN];
    char username[NAMEDATALEN];
    char recorded_host[256];
    std::int32_t recorded_port;
    std::int64_t created_at;  // TimestampTz
    char key_fingerprint[33];
    std::int32_t sealed_length;
    unsigned char sealed_password[max_sealed_bytes];
    char sqlstate[6];
    char message[max_message_bytes];
    char detail[max_message_bytes];
    char hint[max_message_bytes];
};

}  // namespace claudable
