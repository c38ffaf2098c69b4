// Steps that change catalog rows a project's own role can hold locked: its pg_authid row
// (ALTER ROLE self PASSWORD in an open transaction), its settings (ALTER ROLE self SET),
// its database's row (ALTER DATABASE, GRANT ... ON DATABASE). Such a step waits at most
// tenant_lock_wait_ms, never claudable.worker_timeout, and never while the worker holds a
// lock another project needs (claudable.provisioning_lock): a tenant stalls only its own
// project's call, which fails fast with 55P03 and says what to do.
#pragma once

#include <functional>
#include <string>

namespace claudable {

inline constexpr int tenant_lock_wait_ms = 1000;

// Runs `step` with lock_timeout = tenant_lock_wait_ms, then puts back `worker_timeout_ms`.
// `what` ("rotating the password of project \"x\" ...") and `username` name the call and
// the role in the error.
void change_tenant_rows(const std::string& what, const std::string& username, int worker_timeout_ms,
                        const std::function<void()>& step);

}  // namespace claudable
