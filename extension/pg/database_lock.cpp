#include "pg/database_lock.hpp"

#include "pg/boundary.hpp"

namespace claudable::pg {

bool lock_database(const std::string& database_name, DatabaseLock mode) {
    const char* name = database_name.c_str();
    const LOCKMODE lock_mode = mode == DatabaseLock::copy ? ShareLock : AccessExclusiveLock;
    return call([name, lock_mode]() noexcept {
        const Oid database_id = get_database_oid(name, true);
        if (!OidIsValid(database_id)) return false;
        LockSharedObject(DatabaseRelationId, database_id, 0, lock_mode);
        return true;
    });
}

}  // namespace claudable::pg

namespace claudable::pg {

bool backend_alive(int pid) {
    return call([pid]() noexcept { return BackendPidGetProc(pid) != nullptr; });
}

}  // namespace claudable::pg
