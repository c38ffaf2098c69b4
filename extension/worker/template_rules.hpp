// What a template must be before a project database (or a spare, which becomes one) is
// copied from it.
#pragma once

#include <string>

#include "worker/jobs.hpp"

namespace claudable {

// A project database must never carry the provisioning function, and nobody but its
// owner may connect to it; both would follow from a careless template. Refuses (55000)
// a template PUBLIC can connect to, or one that contains the claudable extension (asked
// by a short worker connected to the template). A missing template passes: CREATE
// DATABASE reports it with its own SQLSTATE.
void validate_template(const std::string& template_name, const CallerContext& context);

}  // namespace claudable
