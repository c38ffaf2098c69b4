// Snapshots and restores (worker side). A snapshot copies the project's database while its
// sessions are ended and new ones wait (worker/database_copy.hpp); a restore copies the
// snapshot first, then swaps the copy in by rename in one short transaction, keeping the
// database it replaces as a snapshot. Each step is recorded in claudable.snapshots first,
// so claudable.settle_snapshots() finishes or undoes whatever a crash interrupted.
#pragma once

#include <string>

#include "worker/jobs.hpp"

namespace claudable {

SnapshotReply take_snapshot(const SnapshotRequest& request, const CallerContext& context);
ProjectReply restore_snapshot(const RestoreRequest& request, const CallerContext& context);
DropSnapshotReply drop_snapshot(const DropSnapshotRequest& request, const CallerContext& context);
SettleSnapshotsReply settle_snapshots(const CallerContext& context);
// Every snapshot of the project, its database dropped (its deprovisioning).
void remove_snapshots_of(const std::string& project_id, const CallerContext& context);

// The record, locked, of a ready project this owner holds: P0002, 42501 or 55000 otherwise.
ProjectRecord lock_ready_project(const std::string& project_id, const std::string& owner_id);

}  // namespace claudable
