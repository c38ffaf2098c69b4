#include "pg/catalog_lookup.hpp"

#include <unordered_map>

#include "pg/boundary.hpp"

namespace claudable {
namespace {

// The oid each project database had when this backend last looked; checked again through
// the syscache on every use, so a database dropped and re-created is looked up anew.
std::unordered_map<std::string, unsigned int> database_oids;

}  // namespace

CatalogPresence catalog_presence(const std::string& username, const std::string& database_name) {
    const char* role_name = username.c_str();
    const char* database = database_name.c_str();
    auto known = database_oids.find(database_name);
    const Oid remembered = known == database_oids.end() ? InvalidOid : known->second;
    Oid found = InvalidOid;
    bool role_exists = false;
    const bool owned = pg::call([role_name, database, remembered, &found, &role_exists]() noexcept {
        HeapTuple role = SearchSysCache1(AUTHNAME, CStringGetDatum(role_name));
        if (!HeapTupleIsValid(role)) return false;
        const Oid role_id = reinterpret_cast<Form_pg_authid>(GETSTRUCT(role))->oid;
        ReleaseSysCache(role);
        role_exists = true;
        Oid candidate = remembered;
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (OidIsValid(candidate)) {
                HeapTuple tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(candidate));
                if (HeapTupleIsValid(tuple)) {
                    auto* row = reinterpret_cast<Form_pg_database>(GETSTRUCT(tuple));
                    const bool same_name = strcmp(NameStr(row->datname), database) == 0;
                    const bool same_owner = row->datdba == role_id;
                    ReleaseSysCache(tuple);
                    if (same_name) {
                        found = candidate;
                        return same_owner;
                    }
                }
            }
            candidate = get_database_oid(database, true);
            if (!OidIsValid(candidate)) return false;
        }
        return false;
    });
    if (OidIsValid(found))
        database_oids[database_name] = found;
    else
        database_oids.erase(database_name);
    return CatalogPresence{role_exists, owned};
}

bool role_may_connect(const std::string& username, const std::string& database_name) {
    const char* role_name = username.c_str();
    const char* database = database_name.c_str();
    return pg::call([role_name, database]() noexcept {
        const Oid role_id = get_role_oid(role_name, true);
        const Oid database_id = get_database_oid(database, true);
        if (!OidIsValid(role_id) || !OidIsValid(database_id)) return false;
#if PG_VERSION_NUM >= 160000
        return object_aclcheck(DatabaseRelationId, database_id, role_id, ACL_CONNECT) == ACLCHECK_OK;
#else
        return pg_database_aclcheck(database_id, role_id, ACL_CONNECT) == ACLCHECK_OK;
#endif
    });
}

}  // namespace claudable
