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
    return r;
}

// Each job's fields, after the variant's index.
struct RequestWriter {
    Writer& w;
    void operator()(const ProvisionRequest& r) const {
        const ProjectSettings& s = r.settings;
        w.text(r.project_id).text(r.owner_id).number(static_cast<int>(r.mode));
        w.text(s.template_name).text(s.host).number(s.port).number(s.connection_limit).text(s.role_settings);
        w.number(s.max_projects).number(s.max_projects_per_owner).number(s.spare_databases).text(s.pooler_auth_user);
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
};

JobRequest read_job(Reader& in, std::int64_t index) {
    switch (index) {
        case 0: {
            ProvisionRequest r;
            r.project_id = in.text();
            r.owner_id = in.text();
            r.mode = static_cast<ProvisionMode>(in.integer());
            ProjectSettings& s = r.settings;
            s.template_name = in.text();
            s.host = in.text();
            s.port = in.integer();
            s.connection_limit = in.integer();
            s.role_settings = in.text();
            s.max_projects = in.integer();
            s.max_projects_per_owner = in.integer();
            s.spare_databases = in.integer();
            s.pooler_auth_user = in.text();
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
        default: fail(sqlstate::internal_error, "claudable: a worker reply names an unknown job");
    }
}

}  // namespace claudable
