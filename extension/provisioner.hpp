// What the background worker does for one call: reserve, create the role, create the
// database, lock it down, mark it ready. Each step is its own transaction, run as a
// top-level command, so CREATE DATABASE is allowed.
#pragma once

#include <string>

#include "project_store.hpp"

namespace claudable {

struct ProvisionRequest {
    std::string project_id;
    std::string owner_id;
    std::string template_name;
    std::string key_file;
    std::string host;
    int port = 0;
    // Reconcile: run every step again on a ready project (recreate what is missing,
    // reset drifted attributes and privileges) instead of returning it as it is.
    bool repair = false;
    std::string fault_point;  // test builds only; see fault_injection.hpp
};

struct ProvisionReply {
    ProjectRecord record;
    bool created = false;  // this call made the project ready
};

// Advisory locks (two-int4 form) in the metadata database. A worker holds the
// project's lock for its whole life, then the global one while it works, always in
// that order. claudable_check() reads the project lock to tell a running worker from
// a stuck row; the tests hold the global one to park workers.
inline constexpr int project_lock_class = 0x636c6401;  // object: hashtext(project_id)
inline constexpr int global_lock_class = 0x636c6400;   // object: 1

// Runs inside the worker, connected to the metadata database as the extension's owner.
ProvisionReply provision_project(const ProvisionRequest& request);

}  // namespace claudable
