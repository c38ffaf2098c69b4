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
};

struct ProvisionReply {
    ProjectRecord record;
    bool created = false;  // this call made the project ready
};

// Runs inside the worker, connected to the metadata database as the extension's owner.
ProvisionReply provision_project(const ProvisionRequest& request);

}  // namespace claudable
