// Before a managed role (a project's, a spare's) is dropped: what it owns and every
// privilege granted to it, in every database. A tenant may grant anything it owns to any
// role; DROP ROLE refuses while such a grant exists anywhere.
#pragma once

#include <string>

#include "worker/jobs.hpp"

namespace claudable {

// DROP OWNED BY the role here (which also revokes its privileges on shared objects: other
// databases) and, through a worker connected to each, in every other database where
// pg_shdepend shows it owns or holds something.
void drop_owned_everywhere(const std::string& username, const CallerContext& context);

}  // namespace claudable
