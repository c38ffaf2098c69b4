// Pooled logins that work the moment a project exists (README, Install step 5b): PgBouncer's
// auth_query asks the project database itself for its owner's SCRAM verifier, through
// pg_catalog.claudable_pooler_lookup, logged in as the role claudable.pooler_auth_user
// names. That role gets CONNECT on the database and nothing else; the lookup answers it
// alone. Nothing here runs when the setting is empty.
#pragma once

#include <string>

#include "worker/jobs.hpp"

namespace claudable {

// In a transaction, before anything is created: the role exists (42704) and holds no
// attribute that would make the lookup's caller more than a lookup (22023).
void require_pooler_auth_role(const std::string& auth_user);

// In a transaction: whether the database grants the role CONNECT, which is granted in the
// same transaction that puts the lookup there; true when no role is set (auth_user empty).
bool pooled_login_prepared(const std::string& database_name, const std::string& auth_user);

// Between transactions: a worker connected to the database puts the lookup there and
// grants the role CONNECT.
void prepare_pooled_login(const std::string& database_name, const std::string& auth_user, const CallerContext& context);

// Worker side, connected to that database.
PreparePooledLoginReply prepare_pooled_login_here(const PreparePooledLoginRequest& request);

}  // namespace claudable
