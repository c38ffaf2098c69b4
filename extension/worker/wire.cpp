#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "worker/wire.hpp"

#include <cstdint>
#include <cstring>

#include "rules/failure.hpp"

namespace claudable {
namespace {

class Writer {
public:
    Writer& text(const std::string& value) {
        number(static_cast<std::int64_t>(value.size()));
        bytes_ += value;
        return *this;
    }
    Writer& number(std::int64_t value) {
        char raw[sizeof value];
        std::memcpy(raw, &value, sizeof value);
        bytes_.append(raw, sizeof raw);
        return *this;
    }
    std::string take() { return std::move(bytes_); }

private:
    std::string bytes_;
};

class Reader {
public:
    explicit Reader(const std::string& bytes) : bytes_(bytes) {}
    std::string text() {
        const std::int64_t size = number();
        need(size);
        std::string value = bytes_.substr(at_, static_cast<std::size_t>(size));
        at_ += static_cast<std::size_t>(size);
        return value;
    }
    std::int64_t number() {
        std::int64_t value;
        need(sizeof value);
        std::memcpy(&value, bytes_.data() + at_, sizeof value);
        at_ += sizeof value;
        return value;
    }
    int integer() { return static_cast<int>(number()); }
    bool flag() { return number() != 0; }

private:
    void need(std::int64_t size) const {
        if (size < 0 || static_cast<std::size_t>(size) > bytes_.size() - at_)
            fail(sqlstate::internal_error, "claudable: a message between caller and worker is malformed");
    }
    const std::string& bytes_;
    std::size_t at_ = 0;
};

}  // namespace

namespace {

void write_record(Writer& w, const ProjectRecord& r) {
    w.text(r.project_id).text(r.owner_id).text(r.database_name).text(r.username).text(r.sealed_password);
    w.text(r.host).number(r.port).text(r.status).number(r.created_at).text(r.key_fingerprint);
    w.number(r.read_only).number(r.role_exists).number(r.database_exists);
    w.text(r.parent_project_id).number(r.expires_at);
}

ProjectRecord read_record(Reader& in) {
    ProjectRecord r;
    r.project_id = in.text();
    r.owner_id = in.text();
    r.database_name = in.text();
    r.username = in.text();
    r.sealed_password = in.text();
    r.host = in.text();
    r.port = in.integer();
    r.status = in.text();
    r.created_at = in.number();
    r.key_fingerprint = in.text();
    r.read_only = in.flag();
    r.role_exists = in.flag();
    r.database_exists = in.flag();
    r.parent_project_id = in.text();
    r.expires_at = in.number();
    return r;
}

void write_settings(Writer& w, const ProjectSettings& s) {
    w.text(s.template_name).text(s.host).number(s.port).number(s.connection_limit).text(s.role_settings);
    w.number(s.max_projects).number(s.max_projects_per_owner).number(s.spare_databases).text(s.pooler_auth_user);
}

ProjectSettings read_settings(Reader& in) {
    ProjectSettings s;
    s.template_name = in.text();
    s.host = in.text();
    s.port = in.integer();
    s.connection_limit = in.integer();
    s.role_settings = in.text();
    s.max_projects = in.integer();
    s.max_projects_per_owner = in.integer();
    s.spare_databases = in.integer();
    s.pooler_auth_user = in.text();
    return s;
}

void write_origin(Writer& w, const BranchOrigin& o) {
    w.text(o.parent_project_id).number(o.expires_at).number(o.max_branches);
}

BranchOrigin read_origin(Reader& in) {
    BranchOrigin o;
    o.parent_project_id = in.text();
    o.expires_at = in.number();
    o.max_branches = in.integer();
    return o;
}

void write_copy(Writer& w, const CopySettings& c) {
    w.number(c.file_copy_threshold).number(c.max_snapshots).text(c.file_copy_method);
}

CopySettings read_copy(Reader& in) {
    CopySettings c;
    c.file_copy_threshold = in.number();
    c.max_snapshots = in.integer();
    c.file_copy_method = in.text();
    return c;
}

void write_snapshot(Writer& w, const SnapshotRecord& r) {
    w.text(r.snapshot_id).text(r.project_id).text(r.label).text(r.database_name).text(r.state);
    w.text(r.restored_from).text(r.staging_database).number(r.size_bytes).number(r.created_at).number(r.worker_pid);
}

SnapshotRecord read_snapshot(Reader& in) {
    SnapshotRecord r;
    r.snapshot_id = in.text();
    r.project_id = in.text();
    r.label = in.text();
    r.database_name = in.text();
    r.state = in.text();
    r.restored_from = in.text();
    r.staging_database = in.text();
    r.size_bytes = in.number();
    r.created_at = in.number();
    r.worker_pid = in.integer();
    return r;
}

// Each job's fields, after the variant's index.
struct RequestWriter {
    Writer& w;
    void operator()(const ProvisionRequest& r) const {
        w.text(r.project_id).text(r.owner_id).number(static_cast<int>(r.mode));
        write_settings(w, r.settings);
        write_origin(w, r.branch);
    }
    void operator()(const DeprovisionRequest& r) const { w.text(r.project_id).text(r.owner_id); }
    void operator()(const RotatePasswordRequest& r) const { w.text(r.project_id).text(r.owner_id); }
    void operator()(const RotateKeyRequest&) const {}
    void operator()(const InspectTemplateRequest& r) const { w.text(r.template_name); }
    void operator()(const DropOwnedRequest& r) const { w.text(r.username); }
    void operator()(const RefillSparesRequest&) const {}
    void operator()(const MeasureOwnedRequest& r) const {
        w.number(static_cast<std::int64_t>(r.usernames.size()));
        for (const std::string& name : r.usernames) w.text(name);
    }
    void operator()(const PreparePooledLoginRequest& r) const {
        w.text(r.database_name).text(r.auth_user);
    }
    void operator()(const SnapshotRequest& r) const {
        w.text(r.project_id).text(r.owner_id).text(r.label);
        write_copy(w, r.copy);
    }
    void operator()(const RestoreRequest& r) const {
        w.text(r.project_id).text(r.owner_id).text(r.snapshot_id);
        write_copy(w, r.copy);
        write_settings(w, r.settings);
    }
    void operator()(const DropSnapshotRequest& r) const { w.text(r.project_id).text(r.owner_id).text(r.snapshot_id); }
    void operator()(const BranchRequest& r) const {
        w.text(r.project_id).text(r.owner_id).text(r.source);
        write_origin(w, r.branch);
        write_copy(w, r.copy);
        write_settings(w, r.settings);
    }
    void operator()(const AdoptCopyRequest& r) const {
        w.text(r.parent_username).text(r.branch_username);
    }
    void operator()(const SettleSnapshotsRequest&) const {}
};

JobRequest read_job(Reader& in, std::int64_t index) {
    switch (index) {
        case 0: {
            ProvisionRequest r;
            r.project_id = in.text();
            r.owner_id = in.text();
            r.mode = static_cast<ProvisionMode>(in.integer());
            r.settings = read_settings(in);
            r.branch = read_origin(in);
            return r;
        }
        case 1: {
            DeprovisionRequest r;
            r.project_id = in.text();
            r.owner_id = in.text();
            return r;
        }
        case 2: {
            RotatePasswordRequest r;
            r.project_id = in.text();
            r.owner_id = in.text();
            return r;
        }
        case 3: return RotateKeyRequest{};
        case 4: return InspectTemplateRequest{in.text()};
        case 5: return DropOwnedRequest{in.text()};
        case 6: return RefillSparesRequest{};
        case 7: {
            MeasureOwnedRequest r;
            for (std::int64_t n = in.number(); n > 0; --n) r.usernames.push_back(in.text());
            return r;
        }
        case 8: {
            PreparePooledLoginRequest r;
            r.database_name = in.text();
            r.auth_user = in.text();
            return r;
        }
        case 9: {
            SnapshotRequest r;
            r.project_id = in.text();
            r.owner_id = in.text();
            r.label = in.text();
            r.copy = read_copy(in);
            return r;
        }
        case 10: {
            RestoreRequest r;
            r.project_id = in.text();
            r.owner_id = in.text();
            r.snapshot_id = in.text();
            r.copy = read_copy(in);
            r.settings = read_settings(in);
            return r;
        }
        case 11: {
            DropSnapshotRequest r;
            r.project_id = in.text();
            r.owner_id = in.text();
            r.snapshot_id = in.text();
            return r;
        }
        case 12: {
            BranchRequest r;
            r.project_id = in.text();
            r.owner_id = in.text();
            r.source = in.text();
            r.branch = read_origin(in);
            r.copy = read_copy(in);
            r.settings = read_settings(in);
            return r;
        }
        case 13: {
            AdoptCopyRequest r;
            r.parent_username = in.text();
            r.branch_username = in.text();
            return r;
        }
        case 14: return SettleSnapshotsRequest{};
        default: fail(sqlstate::internal_error, "claudable: a worker request names an unknown job");
    }
}

struct ReplyWriter {
    Writer& w;
    void operator()(const ProjectReply& r) const {
        write_record(w, r.record);
        w.number(r.created);
    }
    void operator()(const DeprovisionReply& r) const { w.number(r.removed); }
    void operator()(const RotateKeyReply& r) const { w.text(r.fingerprint); }
    void operator()(const InspectTemplateReply& r) const { w.number(r.has_claudable); }
    void operator()(const DropOwnedReply&) const {}
    void operator()(const RefillSparesReply& r) const { w.number(r.ready); }
    void operator()(const MeasureOwnedReply& r) const {
        w.number(static_cast<std::int64_t>(r.owned.size()));
        for (const OwnedThere& o : r.owned) w.text(o.username).number(o.objects).number(o.size_bytes);
    }
    void operator()(const PreparePooledLoginReply&) const {}
    void operator()(const SnapshotReply& r) const { write_snapshot(w, r.snapshot); }
    void operator()(const DropSnapshotReply& r) const { w.number(r.dropped); }
    void operator()(const AdoptCopyReply&) const {}
    void operator()(const SettleSnapshotsReply& r) const {
        w.number(static_cast<std::int64_t>(r.settled.size()));
        for (const Settled& s : r.settled) w.text(s.action).text(s.object).text(s.detail);
    }
};

}  // namespace

std::string encode_request(const WorkerRequest& request) {
    const CallerContext& c = request.context;
    Writer w;
    w.text(c.actor).text(c.fault_point).text(c.key_file).number(c.worker_start_timeout_ms).number(c.worker_timeout_ms);
    w.number(c.requested_at_us);
    w.number(static_cast<std::int64_t>(request.job.index()));
    std::visit(RequestWriter{w}, request.job);
    return w.take();
}

WorkerRequest decode_request(const std::string& bytes) {
    Reader in(bytes);
    CallerContext c;
    c.actor = in.text();
    c.fault_point = in.text();
    c.key_file = in.text();
    c.worker_start_timeout_ms = in.integer();
    c.worker_timeout_ms = in.integer();
    c.requested_at_us = in.number();
    const std::int64_t index = in.number();
    return WorkerRequest{c, read_job(in, index)};
}

std::string encode_reply(const WorkerReply& reply) {
    Writer w;
    w.number(static_cast<std::int64_t>(reply.index()));
    std::visit(ReplyWriter{w}, reply);
    return w.take();
}

WorkerReply decode_reply(const std::string& bytes) {
    Reader in(bytes);
    switch (in.number()) {
        case 0: {
            ProjectReply r;
            r.record = read_record(in);
            r.created = in.flag();
            return r;
        }
        case 1: return DeprovisionReply{in.flag()};
        case 2: return RotateKeyReply{in.text()};
        case 3: return InspectTemplateReply{in.flag()};
        case 4: return DropOwnedReply{};
        case 5: return RefillSparesReply{in.integer()};
        case 6: {
            MeasureOwnedReply r;
            for (std::int64_t n = in.number(); n > 0; --n) {
                OwnedThere o;
                o.username = in.text();
                o.objects = in.number();
                o.size_bytes = in.number();
                r.owned.push_back(std::move(o));
            }
            return r;
        }
        case 7: return PreparePooledLoginReply{};
        case 8: return SnapshotReply{read_snapshot(in)};
        case 9: return DropSnapshotReply{in.flag()};
        case 10: return AdoptCopyReply{};
        case 11: {
            SettleSnapshotsReply r;
            for (std::int64_t n = in.number(); n > 0; --n) {
                Settled s;
                s.action = in.text();
                s.object = in.text();
                s.detail = in.text();
                r.settled.push_back(std::move(s));
            }
            return r;
        }
        default: fail(sqlstate::internal_error, "claudable: a worker reply names an unknown job");
    }
}

}  // namespace claudable
