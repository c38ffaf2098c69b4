#include "pg/boundary.hpp"

#include <cstdio>
#include <cstring>
#include <new>

namespace claudable::pg {
namespace {

// The report being raised. Static, so it outlives the C++ frames that ereport() jumps
// over: they are gone by the time it is read.
ErrorReport pending_report;

void keep(const ErrorReport& report) noexcept {
    try {
        pending_report = report;
        if (pending_report.sqlstate.size() != 5) pending_report.sqlstate = sqlstate::internal_error;
    } catch (...) {  // no memory for a copy: the SQLSTATE alone
        pending_report.sqlstate = "53200";
    }
}

void keep(const char* state, const char* message) noexcept {
    try {
        keep(ErrorReport{state, message});
    } catch (...) {
        pending_report.sqlstate = "53200";
    }
}

void keep_internal(const char* what) noexcept {
    try {
        keep(ErrorReport{sqlstate::internal_error, "claudable: internal error", what});
    } catch (...) {
        pending_report.sqlstate = "53200";
    }
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

// err_generic_string() copies its string, so it must not be given a null one.
int optional_field(int field, const std::string& text) {
    return text.empty() ? 0 : err_generic_string(field, text.c_str());
}

void raise_pending(int level) {
    const ErrorReport& r = pending_report;
    ereport(level, (errcode(sqlstate_code(r.sqlstate.c_str())), errmsg_internal("%s", r.message.c_str()),
                    r.detail.empty() ? 0 : errdetail_internal("%s", r.detail.c_str()),
                    r.hint.empty() ? 0 : errhint("%s", r.hint.c_str()),
                    r.context.empty() ? 0 : errcontext("%s", r.context.c_str()),
                    optional_field(PG_DIAG_SCHEMA_NAME, r.schema_name),
                    optional_field(PG_DIAG_TABLE_NAME, r.table_name),
                    optional_field(PG_DIAG_COLUMN_NAME, r.column_name),
                    optional_field(PG_DIAG_DATATYPE_NAME, r.datatype_name),
                    optional_field(PG_DIAG_CONSTRAINT_NAME, r.constraint_name)));
}

}  // namespace

ErrorData* take_pending_error(MemoryContext into) noexcept {
    MemoryContextSwitchTo(into);
    ErrorData* error = CopyErrorData();
    FlushErrorState();
    return error;
}

void throw_as_failure(ErrorData* error) {
    auto text = [](const char* value) { return std::string(value != nullptr ? value : ""); };
    ErrorReport report{unpack_sql_state(error->sqlerrcode), text(error->message), text(error->detail),
                       text(error->hint), text(error->context), text(error->schema_name), text(error->table_name),
                       text(error->column_name), text(error->datatype_name), text(error->constraint_name)};
    FreeErrorData(error);
    throw Failure(std::move(report), true);
}

Datum enter_function(FunctionCallInfo fcinfo, Datum (*implementation)(FunctionCallInfo, void*), void* context) {
    Datum result = 0;
    if (!catch_everything([&] { result = implementation(fcinfo, context); }))
        raise_pending(ERROR);  // no C++ object is alive in this frame any more
    return result;
}

void enter_callback(void (*implementation)(Datum), Datum argument, int error_level) {
    if (!catch_everything([&] { implementation(argument); }))
        raise_pending(error_level);
}

void send_error(const ErrorReport& report) {
    keep(report);
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    { raise_pending(ERROR); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        EmitErrorReport();
        FlushErrorState();
    }
    PG_END_TRY();
}

void log(const std::string& message) {
    const char* text = message.c_str();
    call([text]() noexcept { ereport(LOG, (errmsg_internal("%s", text))); });
}

}  // namespace claudable::pg
