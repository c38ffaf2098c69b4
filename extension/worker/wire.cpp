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

std::string encode_request(const WorkerRequest& r) {
    Writer w;
    w.text(r.project_id).text(r.owner_id).text(r.template_name).text(r.key_file).text(r.host).number(r.port);
    w.number(static_cast<int>(r.job)).text(r.fault_point).text(r.actor).number(r.connection_limit);
    w.text(r.role_settings).number(r.max_projects).number(r.max_projects_per_owner);
    w.number(r.worker_start_timeout_ms).number(r.worker_timeout_ms);
    return w.take();
}

WorkerRequest decode_request(const std::string& bytes) {
    Reader in(bytes);
    WorkerRequest r;
    r.project_id = in.text();
    r.owner_id = in.text();
    r.template_name = in.text();
    r.key_file = in.text();
    r.host = in.text();
    r.port = in.integer();
    r.job = static_cast<WorkerJob>(in.integer());
    r.fault_point = in.text();
    r.actor = in.text();
    r.connection_limit = in.integer();
    r.role_settings = in.text();
    r.max_projects = in.integer();
    r.max_projects_per_owner = in.integer();
    r.worker_start_timeout_ms = in.integer();
    r.worker_timeout_ms = in.integer();
    return r;
}

std::string encode_reply(const WorkerReply& reply) {
    const ProjectRecord& r = reply.record;
    Writer w;
    w.text(r.project_id).text(r.owner_id).text(r.database_name).text(r.username).text(r.sealed_password);
    w.text(r.host).number(r.port).text(r.status).number(r.created_at).text(r.key_fingerprint);
    w.number(r.read_only).number(r.role_exists).number(r.database_exists);
    w.number(reply.created).number(reply.removed).number(reply.template_has_claudable);
    return w.take();
}

WorkerReply decode_reply(const std::string& bytes) {
    Reader in(bytes);
    WorkerReply reply;
    ProjectRecord& r = reply.record;
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
    reply.created = in.flag();
    reply.removed = in.flag();
    reply.template_has_claudable = in.flag();
    return reply;
}

}  // namespace claudable
