// The SQL-callable functions of the library, as pure C++. Each validates its input in
// the caller's backend, answers lookups there, and hands anything that changes roles or
// databases to a background worker (worker/provisioning_worker.hpp). pg/sql_functions.cpp
// makes them callable from SQL.
//
//  claudable_provision(project_id, owner_id)        create, or look up, a project
//  claudable_deprovision(project_id, owner_id)      drop its database and role
//  claudable_rotate_password(project_id, owner_id)  give it a new password
//  claudable_move_host(old_host, new_host, port)    record a new server address (superuser)
//  claudable_rotate_key()                           re-seal every password under a new key
//  claudable_export_key(path) / _import_key(path)   move the key by hand (superuser)
//  claudable.repair_project(project_id)             run every step again (claudable_reconcile)
//  claudable.credential_findings()                  what claudable_check() needs the key for
//  claudable.written_verifiers()                    roles whose verifier claudable wrote, for the pooler
//  claudable.adopt_key_of_0_2_0()                   the 0.2.0 -> 0.3.0 upgrade's key migration
//  claudable_refill_spares()                        fill the spare pool now (worker/spare_pool.hpp)
//  claudable.limits()                               the limits in force, for SQL functions
//  claudable.spare_settings()                       the pool's size and template, for SQL functions
//  claudable.pooler_auth_user()                     claudable.pooler_auth_user, for claudable_check()
//  claudable_snapshot / _snapshots / _restore / _drop_snapshot / _branch, claudable.settle_snapshots()
//                                                   snapshots, restore and branches (api/versions_api.cpp)
#pragma once

#include "pg/sql_function.hpp"

namespace claudable::api {

pg::Result provision(const pg::Arguments& arguments);
pg::Result snapshot(const pg::Arguments& arguments);
pg::Result snapshots(const pg::Arguments& arguments);
pg::Result restore(const pg::Arguments& arguments);
pg::Result drop_snapshot(const pg::Arguments& arguments);
pg::Result branch(const pg::Arguments& arguments);
pg::Result settle_snapshots(const pg::Arguments& arguments);
pg::Result deprovision(const pg::Arguments& arguments);
pg::Result rotate_password(const pg::Arguments& arguments);
pg::Result move_host(const pg::Arguments& arguments);
pg::Result repair_project(const pg::Arguments& arguments);
pg::Result rotate_key(const pg::Arguments& arguments);
pg::Result export_key(const pg::Arguments& arguments);
pg::Result import_key(const pg::Arguments& arguments);
pg::Result adopt_key_of_0_2_0(const pg::Arguments& arguments);
pg::Result credential_findings(const pg::Arguments& arguments);
pg::Result written_verifiers(const pg::Arguments& arguments);
pg::Result owned_elsewhere(const pg::Arguments& arguments);
pg::Result limits(const pg::Arguments& arguments);
pg::Result pooler_auth_user(const pg::Arguments& arguments);
pg::Result refill_spares(const pg::Arguments& arguments);
pg::Result spare_settings(const pg::Arguments& arguments);

}  // namespace claudable::api
