#include "pg_boundary.hpp"

#include <cstdio>
#include <cstring>
#include <new>

namespace claudable::pg {
namespace {

// A report copied out of C++ objects into plain storage, so that ereport() can be
// called after the exception and everything it owned are destroyed.
struct PlainReport {
    char sqlstate[6];
    char message[1024];
    char detail[1024];
    char hint[1024];
};

PlainReport pending_report;

void keep(const char* state, const char* message, const char* detail = "", const char* hint = "") noexcept {
    PlainReport& r = pending_report;
    snprintf(r.sqlstate, sizeof r.sqlstate, "%s", std::strlen(state) == 5 ? state : sqlstate::internal_error);
    snprintf(r.message, sizeof r.message, "%s", message);
    snprintf(r.detail, sizeof r.detail, "%s", detail);
    snprintf(r.hint, sizeof r.hint, "%s", hint);
}

void keep(const ErrorReport& report) noexcept {
    keep(report.sqlstate.c_str(), report.message.c_str(), report.detail.c_str(), report.hint.c_str());
}

void keep_internal(const char* what) noexcept {
    keep(sqlstate::internal_error, "claudable: internal error", what);
}

// Runs `body`, catching every C++ exception into pending_report. Returns false when
// something was caught.
template <typename Body>
bool catch_everything(Body&& body) noexcept {
    try {
        body();
        return true;
    } catch (const Failure& failure) {
        keep(failure.report());
    } catch (const std::bad_alloc&) {
        keep("53200", "claudable: out of memory");
    } catch (const std::exception& exception) {
        keep_internal(exception.what());
    } catch (...) {
        keep_internal("unknown exception");
    }
    return false;
}

int sqlstate_code(const char* s) {
    return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

void raise_pending(int level) {
    const PlainReport& r = pending_report;
    ereport(level, (errcode(sqlstate_code(r.sqlstate)), errmsg_internal("%s", r.message),
                    r.detail[0] ? errdetail_internal("%s", r.detail) : 0,
                    r.hint[0] ? errhint("%s", r.hint) : 0));
}

}  // namespace

ErrorData* take_pending_error(MemoryContext into) noexcept {
    MemoryContextSwitchTo(into);
    ErrorData* error = CopyErrorData();
    FlushErrorState();
    return error;
}

void throw_as_failure(ErrorData* error) {
    ErrorReport report{unpack_sql_state(error->sqlerrcode), error->message ? error->message : "",
                       error->detail ? error->detail : "", error->hint ? error->hint : ""};
    FreeErrorData(error);
    throw Failure(std::move(report));
}

Datum enter_function(FunctionCallInfo fcinfo, Datum (*implementation)(FunctionCallInfo)) {
    Datum result = 0;
    if (!catch_everything([&] { result = implementation(fcinfo); }))
        raise_pending(ERROR);  // no C++ object is alive in this frame any more
    return result;
}

void enter_callback(void (*implementation)(Datum), Datum argument, int error_level) {
    if (!catch_everything([&] { implementation(argument); }))
        raise_pending(error_level);
}

void log(const std::string& message) {
    const char* text = message.c_str();
    call([text]() noexcept { ereport(LOG, (errmsg_internal("%s", text))); });
}

}  // namespace claudable::pg
