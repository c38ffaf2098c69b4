#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/spare_pool.hpp"

#include "crypto/password.hpp"
#include "crypto/scram.hpp"
#include "crypto/secret_box.hpp"
#include "pg/background_worker.hpp"
#include "pg/server.hpp"
#include "pg/settings.hpp"
#include "pg/spi_query.hpp"
#include "pg/transaction.hpp"
#include "rules/sql_text.hpp"
#include "store/key_store.hpp"
#include "store/project_store.hpp"
#include "store/spare_store.hpp"
#include "worker/pooled_login.hpp"
#include "worker/role_removal.hpp"
#include "worker/single_runner.hpp"
#include "worker/template_rules.hpp"

namespace claudable {
namespace {

std::string runner_path() {
    return pg::data_directory() + "/claudable_spares." + std::to_string(pg::current_database_id());
}

// Drops a spare in four steps: marked retiring (never claimed again), its database, what
// a tenant granted its role anywhere, then its role and row. Only what carries the spare
// marker is dropped.
void retire(const std::string& name, const std::string& marker, const std::string& why, const CallerContext& context) {
    bool ours = false;
    in_transaction([&] {
        ours = lock_spare(name);  // a claim holding it wins
        if (ours) set_spare_state(name, "retiring");
    });
    if (!ours) return;
    in_transaction([&] {
        if (database_ownership(name, name, marker) == Ownership::ours)
            pg::run_top_level("DROP DATABASE " + quoted_identifier(name) + " WITH (FORCE)");
    });
    bool role_is_ours = false;
    in_transaction([&] { role_is_ours = role_ownership(name, marker) == Ownership::ours; });
    if (role_is_ours) drop_owned_everywhere(name, context);
    in_transaction([&] {
        if (!lock_spare(name)) return;
        if (role_ownership(name, marker) == Ownership::ours) pg::run_top_level("DROP ROLE " + quoted_identifier(name));
        delete_spare(name);
    });
    pg::log("claudable: retired spare database \"" + name + "\" (" + why + ")");
}

// Role first (with its row), then the copy with the lock-down that makes it claimable.
// The role gets its password's SCRAM verifier now (PBKDF2, the costliest step of a claim
// otherwise); it stays NOLOGIN until a claim, and a SCRAM verifier does not depend on the
// role's name, so it survives the rename.
void make_spare(const std::string& template_name, const std::string& marker, const std::string& pooler_auth_user,
                const CallerContext& context) {
    const std::string& key_file = context.key_file;
    std::string name;
    in_transaction([&] {
        name = next_spare_name();
        record_new_spare(name, template_name);
        std::string attributes = " WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT";
        lock_provisioning(LockStrength::shared);  // no key rotation between reading and using the key
        if (const std::optional<ActiveKey> key = existing_active_key(key_file)) {
            std::string password = generate_password();
            const std::string verifier = scram_sha256_verifier(password);
            record_spare_password(name, seal(*key->key, password, spare_seal_context(name)), key->fingerprint);
            wipe(password);
            attributes += " PASSWORD " + quoted_literal(verifier);
        }
        const std::string role = quoted_identifier(name);
        pg::run_top_level("CREATE ROLE " + role + attributes);
        pg::run_top_level("COMMENT ON ROLE " + role + " IS " + quoted_literal(marker));
    });
    const std::string database = quoted_identifier(name);
    // Created and closed in one transaction, as a project's database is: no session ever
    // sees the copy with PUBLIC's default CONNECT and TEMPORARY.
    in_transaction([&] {
        pg::report_activity("claudable: copying template \"" + template_name + "\" into spare \"" + name + "\"");
        pg::run_top_level("CREATE DATABASE " + database + " OWNER " + database + " TEMPLATE " +
                          quoted_identifier(template_name));
        pg::run_top_level("COMMENT ON DATABASE " + database + " IS " + quoted_literal(marker));
        pg::run_top_level("REVOKE CONNECT, TEMPORARY ON DATABASE " + database + " FROM PUBLIC");
        if (pooler_auth_user.empty()) set_spare_state(name, "ready");
    });
    if (!pooler_auth_user.empty()) {
        // PgBouncer's lookup and CONNECT go in now, so a claim needs no worker in the new
        // database; a spare whose lookup failed stays 'creating' and the next refill retires it.
        prepare_pooled_login(name, pooler_auth_user, context);
        in_transaction([&] { set_spare_state(name, "ready"); });
    }
    pg::log("claudable: made spare database \"" + name + "\" from template \"" + template_name + "\"");
}

// A copy competes for the disk with the cold calls that found the pool empty: it waits
// while another provisioning worker of this database is busy, up to a few seconds (a
// steady stream of calls must not starve the pool).
void yield_to_busy_workers() {
    constexpr long long longest_ms = 5000;
    const long long started = pg::now_ms();
    while (pg::now_ms() - started < longest_ms) {
        bool busy = false;
        in_transaction([&] {
            busy = !pg::query("SELECT 1 FROM pg_catalog.pg_stat_activity AS a"
                              " WHERE a.backend_type = 'claudable provisioner' AND a.state = 'active'"
                              "   AND a.datid = (SELECT d.oid FROM pg_catalog.pg_database AS d"
                              "                   WHERE d.datname = pg_catalog.current_database())"
                              "   AND a.pid <> pg_catalog.pg_backend_pid() LIMIT 1")
                        .empty();
        });
        if (!busy) return;
        pg::pause_ms(20);
    }
}

int count_claimable(const std::string& template_name, const std::string& pooler_auth_user) {
    int ready = 0;
    in_transaction([&] {
        for (const SpareRow& spare : spare_rows(template_name, pooler_auth_user)) ready += spare.claimable() ? 1 : 0;
    });
    return ready;
}

struct PoolTarget {
    std::string template_name;
    int size = 0;
    std::string pooler_auth_user;
};

// The pool is the server's: its size and template as the configuration files say now,
// whatever a session may have SET.
PoolTarget server_target() {
    pg::reload_configuration();
    const settings::Values values = settings::current();
    return PoolTarget{values.template_name, values.spare_databases, values.pooler_auth_user};
}

// With the runner lock held.
int refill(const PoolTarget& request, const CallerContext& context) {
    pg::report_activity("claudable: refilling the spare pool");
    std::string marker;
    std::vector<SpareRow> spares;
    in_transaction([&] {
        ensure_installation();
        marker = spare_marker();
        record_unlisted_spares();
        spares = spare_rows(request.template_name, request.pooler_auth_user);
    });
    int ready = 0;
    for (const SpareRow& spare : spares) {
        if (spare.claimable() && ready < request.size) {
            ++ready;
            continue;
        }
        const std::string why = !spare.claimable()
                                    ? (spare.state != "ready" ? "left " + spare.state
                                       : !spare.fits ? "made from another template than \"" + request.template_name + "\""
                                       : !spare.intact ? "changed or incomplete"
                                                       : "without the pooled-login lookup for claudable.pooler_auth_user")
                                    : "beyond claudable.spare_databases = " + std::to_string(request.size);
        // A spare that cannot be retired now stays retiring (never claimed) for the next
        // refill: whatever was done to it, the pool is still filled.
        try {
            retire(spare.name, marker, why, context);
        } catch (const Failure& failure) {
            if (failure.from_postgres() && failure.sqlstate() == "57014") throw;  // a cancel is never swallowed
            pg::log("claudable: could not retire spare database \"" + spare.name + "\" (" + why +
                    "): " + failure.report().message);
        }
    }
    if (ready < request.size) {
        validate_template(request.template_name, context);  // spares become project databases
        if (!request.pooler_auth_user.empty())
            in_transaction([&] { require_pooler_auth_role(request.pooler_auth_user); });
        in_transaction([&] {  // the first key, as a first provisioning would make it: spares carry passwords
            lock_provisioning(LockStrength::exclusive);
            active_key(context.key_file, true);
        });
    }
    for (; ready < request.size; ++ready) {
        yield_to_busy_workers();
        make_spare(request.template_name, marker, request.pooler_auth_user, context);
    }
    return count_claimable(request.template_name, request.pooler_auth_user);
}

}  // namespace

int refill_spares_now(const CallerContext& context) {
    RunnerLock lock(runner_path());
    const long long started = pg::now_ms();
    while (!lock.try_take()) {
        if (pg::now_ms() - started >= context.worker_timeout_ms)
            fail(sqlstate::object_not_in_prerequisite_state,
                 "claudable: another refill of the spare pool did not finish within claudable.worker_timeout", {},
                 "See pg_stat_activity (backend_type 'claudable spare refiller') and call again later.");
        pg::pause_ms(100);
    }
    return refill(server_target(), context);  // the lock goes with `lock`, on an error too
}

void request_refill() {
    try {
        const std::string path = runner_path();
        if (should_start_runner(path) && !pg::start_detached_worker(pg::DetachedWorker::spare_refiller))
            start_failed(path);
    } catch (const Failure& failure) {
        if (failure.from_postgres() && failure.sqlstate() == "57014") throw;  // a cancel is never swallowed
        pg::log("claudable: could not start the spare refiller: " + failure.report().message);
    }
}

void run_spare_refiller(unsigned int database_id, unsigned int role_id) {
    const settings::Values values = settings::current();
    pg::connect_background_worker(database_id, role_id, false, values.worker_timeout_ms, "claudable spare refiller");
    CallerContext context;  // for the template check's worker
    context.actor = "claudable spare refiller";  // the template check records no event; no catalog read needed
    context.key_file = values.key_file;
    context.worker_start_timeout_ms = values.worker_start_timeout_ms;
    context.worker_timeout_ms = values.worker_timeout_ms;
    RunnerLock lock(runner_path());
    if (!lock.try_take()) return;  // the running refiller looks again before it stops
    // A claim that committed after the last look, by a caller that saw this refiller
    // running and so started none, is met by looking again after the release. A few
    // rounds at most: a pool that empties as fast as it fills waits for the next call.
    for (int round = 0; round < 3; ++round) {
        const PoolTarget target = server_target();
        refill(target, context);
        lock.release();
        if (count_claimable(target.template_name, target.pooler_auth_user) >= target.size || !lock.try_take()) return;
    }
}

}  // namespace claudable
