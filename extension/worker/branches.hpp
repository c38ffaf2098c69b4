// Branches (worker side): a project of its own, parent~branch_id, whose database is a copy
// of its parent's database now ('current') or of one of its snapshots; a branch from
// 'empty' is provisioned like any project (a spare, or the template) with its parent
// recorded. The copy's objects belong to the parent's role; a worker connected to the new
// database hands them to the branch's role (REASSIGN OWNED, the parent's own database
// kept out of it), so the branch's role owns every object and has no right on the parent.
// Anything interrupted is undone: the branch is deprovisioned, and a new call makes it.
#pragma once

#include <string>

#include "worker/jobs.hpp"

namespace claudable {

// In a reservation: the parent is a ready project of this owner, not a branch, below
// claudable.max_branches_per_project (P0002, 42501, 55000, 0A000, 53400).
void refuse_unbranchable_parent(const BranchOrigin& origin, const std::string& owner_id);
ProjectReply create_branch(const BranchRequest& request, const CallerContext& context);
// Connected to the branch's database.
AdoptCopyReply adopt_copy_here(const AdoptCopyRequest& request, const CallerContext& context);

}  // namespace claudable
