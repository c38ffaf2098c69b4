// The snapshots of projects (claudable.snapshots): which database holds each, and where a
// copy, restore or drop stands, so that claudable_reconcile() can finish or undo it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace claudable {

struct SnapshotRecord {
    std::string snapshot_id;
    std::string project_id;
    std::string label;  // "" for none
    std::string database_name;
    std::string state;  // creating | restoring | ready | dropping
    std::string restored_from;
    std::string staging_database;
    std::int64_t size_bytes = 0;
    std::int64_t created_at = 0;  // TimestampTz
    int worker_pid = 0;
};

// A new id ('snap-' + 12 hex characters from the server's strong random source).
std::string new_snapshot_id();

std::optional<SnapshotRecord> find_snapshot(const std::string& project_id, const std::string& snapshot_id);
// The same, its row locked FOR UPDATE (FOR SHARE when `shared`) until the transaction ends.
std::optional<SnapshotRecord> lock_snapshot(const std::string& project_id, const std::string& snapshot_id,
                                            bool shared = false);
// Ready ones, newest first.
std::vector<SnapshotRecord> list_snapshots(const std::string& project_id);
// Every row of the project, any state (for its deprovisioning).
std::vector<SnapshotRecord> all_snapshots_of(const std::string& project_id);
// Rows not ready whose worker is gone (for claudable_reconcile()).
std::vector<SnapshotRecord> unsettled_snapshots();
// Ready rows whose database is gone, or was opened (for claudable_reconcile()).
std::vector<SnapshotRecord> lost_snapshots();
std::vector<SnapshotRecord> opened_snapshots();
std::int64_t count_snapshots(const std::string& project_id);

// Inserted with this worker's PID, in `state` (creating, or restoring with its staging name).
void insert_snapshot(const SnapshotRecord& record);
void set_snapshot_state(const std::string& snapshot_id, const std::string& state);
// Ready, with the size its database has now.
void mark_snapshot_ready(const std::string& snapshot_id);
void delete_snapshot(const std::string& snapshot_id);
// The comment on a snapshot's database, and on a restore's staging copy.
std::string snapshot_marker(const std::string& project_id);
std::string staging_marker(const std::string& project_id);

}  // namespace claudable
