#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "api/sql_api.hpp"

#include "api/call_support.hpp"

#include <optional>

#include "crypto/scram.hpp"
#include "crypto/secret_box.hpp"
#include "pg/background_worker.hpp"
#include "pg/server.hpp"
#include "pg/settings.hpp"
#include "pg/spi_query.hpp"
#include "rules/connection_url.hpp"
#include "rules/project_names.hpp"
#include "store/key_store.hpp"
#include "testing/fault_injection.hpp"
#include "worker/pooled_login.hpp"
#include "worker/provisioning_worker.hpp"
#include "worker/refusal_queue.hpp"

namespace claudable {
namespace {

void require_superuser(const char* function, const char* why) {
    if (!pg::is_superuser())
        fail(sqlstate::insufficient_privilege, std::string("claudable: only a superuser may call ") + function + ": " + why);
}

std::string required_text_argument(const pg::Arguments& arguments, const char* name) {
    const std::optional<std::string> value = arguments.string(0);
    if (!value || value->empty())
        fail(sqlstate::invalid_parameter_value, std::string("claudable: ") + name + " must not be empty");
    return *value;
}

// Each recorded project, its stored password opened, and its role's verifier: the password
// lives only for the visit.
struct Credential {
    std::string project_id, username, status;
    bool role_found = false;
    std::optional<std::string> verifier;  // the role's rolpassword; none without role or password
    bool opened = false;
    std::string password;  // when opened
    std::string why_not;   // when not
};

template <typename Visit>
void for_each_credential(const settings::Values& values, Visit&& visit) {
    auto rows = pg::query(
        "SELECT p.project_id, p.username, p.password_sealed, p.key_fingerprint, p.status, a.rolpassword,"
        "       a.oid IS NOT NULL"
        "  FROM claudable.projects AS p LEFT JOIN pg_catalog.pg_authid AS a ON a.rolname = p.username"
        " ORDER BY p.project_id");
    for (const auto& row : rows) {
        pg::check_for_interrupts();
        Credential c{row[0].value_or(""), row[1].value_or(""), row[4].value_or(""), row[6] == "t", row[5], false, {}, {}};
        try {
            c.password = open_sealed(key_with_fingerprint(row[3].value_or(""), values.key_file), row[2].value_or(""),
                                     c.project_id);
            c.opened = true;
        } catch (const Failure& failure) {
            if (failure.from_postgres()) throw;
            c.why_not = failure.report().message;
        }
        visit(c);
        wipe(c.password);
    }
}

// One row of claudable.credential_findings().
struct CredentialFinding {
    std::string severity, object, problem, project_id;
    bool repairable;
};

std::vector<CredentialFinding> findings_needing_the_key(const settings::Values& values) {
    std::vector<CredentialFinding> findings;
    auto active = pg::query("SELECT k.fingerprint FROM claudable.key_ring AS k WHERE k.state = 'active'");
    if (!active.empty()) {
        try {
            verify_key_source(active[0][0].value_or(""), values.key_file);
        } catch (const Failure& failure) {
            if (failure.from_postgres()) throw;
            findings.push_back({"error", "key", failure.report().message + ": " + failure.report().detail, "", false});
            return findings;  // every row would repeat it
        }
    }
    for_each_credential(values, [&](const Credential& c) {
        if (!c.opened) {
            findings.push_back({"error", "project " + c.project_id, "stored password does not decrypt: " + c.why_not,
                                c.project_id, false});
        } else if (c.status == "ready" && c.role_found &&
                   (!c.verifier || match_verifier(c.password, *c.verifier) != VerifierMatch::same_password)) {
            findings.push_back({"error", "role " + c.username,
                                "password was changed outside claudable (claudable_reconcile() puts the stored one back)",
                                c.project_id, true});
        }
    });
    return findings;
}

}  // namespace

namespace api {

pg::Result provision(const pg::Arguments& arguments) {
    const ProjectArguments args = project_arguments(arguments);
    require_current_schema();
    const settings::Values values = settings::current();

    ProjectReply reply;
    std::optional<ProjectRecord> existing = find_project_with_key(args.project_id, values);
    if (existing && existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, "provision");
    // A branch is made by claudable_branch, which knows what to copy; here it is only
    // returned (or healed).
    if (!existing && is_branch_project_id(args.project_id))
        fail("P0002", "claudable: branch \"" + args.project_id + "\" does not exist", {},
             "Call claudable_branch(project_id, owner_id, branch_id, source) to make it.");
    // A project made before claudable.pooler_auth_user was set, or whose owner revoked the
    // lookup role's CONNECT, goes to a worker, which prepares its pooled login.
    if (existing && existing->status == "ready" && existing->role_exists && existing->database_exists &&
        pooled_login_prepared(existing->database_name, values.pooler_auth_user)) {
        reply.record = std::move(*existing);  // the warm path: no worker, no DDL
    } else {
        // A ready project whose role or database is gone is healed, never returned as a dead URL.
        const bool heal = existing && existing->status == "ready";
        reply = provision_in_worker(
            provision_request(args.project_id, args.owner_id, values, heal ? ProvisionMode::heal : ProvisionMode::create),
            caller_context(values));
    }
    return project_row(reply, args.project_id, values);
}

pg::Result deprovision(const pg::Arguments& arguments) {
    const ProjectArguments args = project_arguments(arguments);
    require_current_schema();
    const settings::Values values = settings::current();
    std::optional<ProjectRecord> existing = find_project(args.project_id);
    if (!existing) return false;  // nothing provisioned: no worker
    if (existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, "deprovision");
    return deprovision_in_worker(DeprovisionRequest{args.project_id, args.owner_id}, caller_context(values)).removed;
}

pg::Result rotate_password(const pg::Arguments& arguments) {
    const ProjectArguments args = project_arguments(arguments);
    require_current_schema();
    const settings::Values values = settings::current();
    std::optional<ProjectRecord> existing = find_project(args.project_id);
    if (!existing) fail("P0002", "claudable: project \"" + args.project_id + "\" is not provisioned");
    if (existing->owner_id != args.owner_id) refuse_and_audit_other_owner(args, "rotate");
    const ProjectReply reply =
        rotate_password_in_worker(RotatePasswordRequest{args.project_id, args.owner_id}, caller_context(values));
    return project_row(reply, args.project_id, values);
}

pg::Result move_host(const pg::Arguments& arguments) {
    require_superuser("claudable_move_host", "it changes every moved project's DATABASE_URL");
    require_current_schema();
    const std::optional<std::string> old_host = arguments.string(0);
    const std::optional<std::string> new_host = arguments.string(1);
    const std::optional<int> new_port = arguments.integer(2);
    if (!old_host || old_host->empty())
        fail(sqlstate::invalid_parameter_value, "claudable: old_host must not be empty",
             {}, "Give the host the projects are recorded with (SELECT DISTINCT host FROM claudable.projects).");
    if (!new_host || !is_valid_host(*new_host))
        fail(sqlstate::invalid_parameter_value, "claudable: new_host is not a host name or IP address",
             "A host is a DNS name, an IPv4 address or an IPv6 literal, without brackets, port or path.",
             "Give the host name the apps should connect to, as claudable.host would hold it.");
    if (new_port && (*new_port < 1 || *new_port > 65535))
        fail(sqlstate::invalid_parameter_value, "claudable: new_port must be between 1 and 65535",
             {}, "Leave it NULL to keep each project's port.");
    const int moved = move_projects_host(*old_host, *new_host, new_port.value_or(0));
    // old_host is only compared, never checked: the log line names it only if it is a host.
    pg::log("claudable: moved " + std::to_string(moved) + " projects from host " +
            (is_valid_host(*old_host) ? "\"" + *old_host + "\"" : std::string("(not a valid host name)")) + " to \"" +
            *new_host + "\"" + (new_port ? " port " + std::to_string(*new_port) : std::string()));
    return moved;
}

pg::Result repair_project(const pg::Arguments& arguments) {
    const std::optional<std::string> project_id = arguments.string(0);
    validate_project_id(project_id ? &*project_id : nullptr);
    require_current_schema();
    std::optional<ProjectRecord> existing = find_project(*project_id);
    if (!existing) fail("P0002", "claudable: project \"" + *project_id + "\" is not recorded");
    const settings::Values values = settings::current();
    // Finish what was asked; a branch whose creation was interrupted is undone (claudable_branch
    // makes it anew), and one past its expires_at is removed.
    const bool expired = existing->expires_at != 0 && existing->expires_at <= pg::now_us();
    const bool interrupted_branch = !existing->parent_project_id.empty() && existing->status == "provisioning";
    if (existing->status == "deprovisioning" || interrupted_branch || (expired && existing->status == "ready"))
        return deprovision_in_worker(DeprovisionRequest{*project_id, existing->owner_id}, caller_context(values)).removed;
    return provision_in_worker(provision_request(*project_id, existing->owner_id, values, ProvisionMode::repair),
                               caller_context(values))
        .created;
}

pg::Result rotate_key(const pg::Arguments&) {
    require_current_schema();
    const settings::Values values = settings::current();
    return rotate_key_in_worker(caller_context(values)).fingerprint;
}

pg::Result export_key(const pg::Arguments& arguments) {
    require_superuser("claudable_export_key", "it reads and writes server files");
    require_current_schema();
    const std::string path = required_text_argument(arguments, "path");
    return export_active_key(settings::current().key_file, path);
}

pg::Result import_key(const pg::Arguments& arguments) {
    require_superuser("claudable_import_key", "it reads and writes server files");
    require_current_schema();
    const std::string path = required_text_argument(arguments, "path");
    if (!settings::current().key_file.empty())
        fail(sqlstate::object_not_in_prerequisite_state,
             "claudable: claudable.key_file is set, so the key is read from that file, not from the database",
             {}, "Copy the key file to the path claudable.key_file names instead.");
    const std::string fingerprint = claudable::import_key(path);
    pg::log("claudable: imported key " + fingerprint + " into claudable.key_material");
    return fingerprint;
}

pg::Result adopt_key_of_0_2_0(const pg::Arguments&) {
    const std::string fingerprint = claudable::adopt_key_of_0_2_0(settings::current().key_file, pg::data_directory());
    if (!fingerprint.empty()) pg::log("claudable: adopted the 0.2.0 key file as key " + fingerprint);
    if (fingerprint.empty()) return pg::Null{};
    return fingerprint;
}

pg::Result credential_findings(const pg::Arguments&) {
    pg::ResultRows rows;
    for (const CredentialFinding& f : findings_needing_the_key(settings::current()))
        rows.rows.push_back(pg::ResultRow{{f.severity, f.object, f.problem,
                                     f.project_id.empty() ? pg::ResultCell{} : pg::ResultCell{f.project_id}, f.repairable}});
    return rows;
}

pg::Result written_verifiers(const pg::Arguments&) {
    pg::ResultRows rows;
    for_each_credential(settings::current(), [&](const Credential& c) {
        if (c.opened && c.status == "ready" && c.verifier &&
            match_verifier(c.password, *c.verifier) == VerifierMatch::same_password)
            rows.rows.push_back(pg::ResultRow{{c.username, *c.verifier}});
    });
    return rows;
}

pg::Result owned_elsewhere(const pg::Arguments&) {
    // pg_shdepend, a shared catalog, says in which databases each project role owns
    // something; a worker connected to each such database measures it.
    auto found = pg::query(
        "SELECT s.dbid, p.project_id, p.username, d.datname::text"
        "  FROM pg_catalog.pg_shdepend AS s"
        "  JOIN pg_catalog.pg_roles AS r ON r.oid = s.refobjid"
        "  JOIN claudable.projects AS p ON p.username = r.rolname::text"
        "  JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid"
        " WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND s.deptype = 'o'"
        "   AND d.datname::text <> p.database_name"
        // a snapshot (or a restore's staging copy) holds the role's objects as they were,
        // refuses connections and is counted apart (claudable.databases.snapshots_size_bytes)
        "   AND NOT EXISTS (SELECT 1 FROM claudable.snapshots AS s"
        "                    WHERE d.datname::text IN (s.database_name, s.staging_database))"
        " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2");
    pg::ResultRows rows;
    const CallerContext context = caller_context(settings::current());
    for (std::size_t i = 0; i < found.size();) {
        pg::check_for_interrupts();
        const long long database_id = pg::as_int64(found[i][0]);
        const std::string database_name = found[i][3].value_or("");
        MeasureOwnedRequest request;
        std::vector<std::string> projects;
        for (; i < found.size() && pg::as_int64(found[i][0]) == database_id; ++i) {
            projects.push_back(found[i][1].value_or(""));
            request.usernames.push_back(found[i][2].value_or(""));
        }
        const MeasureOwnedReply reply =
            measure_owned_in_worker(request, context, static_cast<unsigned int>(database_id));
        for (const OwnedThere& owned : reply.owned)
            for (std::size_t k = 0; k < request.usernames.size(); ++k)
                if (request.usernames[k] == owned.username)
                    rows.rows.push_back(pg::ResultRow{{projects[k], database_name, pg::Bigint{owned.objects},
                                                       pg::Bigint{owned.size_bytes}}});
    }
    return rows;
}

pg::Result limits(const pg::Arguments&) {
    const settings::Values values = settings::current();
    return pg::ResultRow{{values.connection_limit, values.role_settings, pg::Bigint{values.max_database_size},
                    values.max_projects, values.max_projects_per_owner}};
}

pg::Result pooler_auth_user(const pg::Arguments&) {
    return settings::current().pooler_auth_user;
}

pg::Result refill_spares(const pg::Arguments&) {
    require_current_schema();
    return refill_spares_in_worker(RefillSparesRequest{}, caller_context(settings::current())).ready;
}

pg::Result spare_settings(const pg::Arguments&) {
    const settings::Values values = settings::current();
    return pg::ResultRow{{values.spare_databases, values.template_name}};
}

}  // namespace api
}  // namespace claudable
