// Every SQL-callable function of the library, made callable in one place: fmgr's
// boilerplate, the argument access and the conversion of a result into a Datum, a row
// or a set of rows. The functions themselves are pure C++, in api/.
#include "pg/sql_function.hpp"

#include <openssl/crypto.h>

#include "api/sql_api.hpp"
#include "pg/boundary.hpp"

namespace claudable::pg {

std::optional<std::string> Arguments::string(int index) const {
    auto* fcinfo = static_cast<FunctionCallInfo>(call_info_);
    char* value = call([fcinfo, index]() noexcept {
        return PG_ARGISNULL(index) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(index));
    });
    if (value == nullptr) return std::nullopt;
    std::string copy(value);
    call([value]() noexcept { pfree(value); });
    return copy;
}

std::optional<int> Arguments::integer(int index) const {
    auto* fcinfo = static_cast<FunctionCallInfo>(call_info_);
    if (PG_ARGISNULL(index)) return std::nullopt;
    return static_cast<int>(DatumGetInt32(fcinfo->args[index].value));
}

std::optional<long long> Arguments::timestamp(int index) const {
    auto* fcinfo = static_cast<FunctionCallInfo>(call_info_);
    if (PG_ARGISNULL(index)) return std::nullopt;
    return static_cast<long long>(DatumGetTimestampTz(fcinfo->args[index].value));
}

namespace {

// One cell as PostgreSQL stores it; `is_null` set for a NULL.
Datum cell_datum(const ResultCell& cell, bool* is_null) {
    *is_null = std::holds_alternative<std::monostate>(cell);
    if (const auto* text = std::get_if<std::string>(&cell)) {
        const char* value = text->c_str();
        return call([value]() noexcept { return CStringGetTextDatum(value); });
    }
    if (const auto* number = std::get_if<int>(&cell)) return Int32GetDatum(*number);
    if (const auto* big = std::get_if<Bigint>(&cell)) return Int64GetDatum(big->value);
    if (const auto* flag = std::get_if<bool>(&cell)) return BoolGetDatum(*flag);
    if (const auto* at = std::get_if<Timestamp>(&cell)) return TimestampTzGetDatum(at->value);
    return 0;
}

void wipe_text(ResultRow& row) noexcept {
    for (ResultCell& cell : row.cells)
        if (auto* text = std::get_if<std::string>(&cell)) {
            if (!text->empty()) OPENSSL_cleanse(text->data(), text->size());
            text->clear();
        }
}

Datum row_datum(FunctionCallInfo fcinfo, ResultRow& row) {
    const int count = static_cast<int>(row.cells.size());
    Datum* values = call([count]() noexcept { return static_cast<Datum*>(palloc0(sizeof(Datum) * (count + 1))); });
    bool* nulls = call([count]() noexcept { return static_cast<bool*>(palloc0(sizeof(bool) * (count + 1))); });
    for (int i = 0; i < count; ++i) values[i] = cell_datum(row.cells[i], &nulls[i]);
    if (row.holds_secrets) wipe_text(row);
    return call([fcinfo, values, nulls, count]() noexcept {
        TupleDesc descriptor;
        if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE || descriptor->natts != count)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("claudable: this function must be called in a context that accepts its row")));
        descriptor = BlessTupleDesc(descriptor);
        return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
    });
}

Datum rows_datum(FunctionCallInfo fcinfo, ResultRows& rows) {
    call([fcinfo]() noexcept { InitMaterializedSRF(fcinfo, 0); });
    for (ResultRow& row : rows.rows) {
        const int count = static_cast<int>(row.cells.size());
        Datum* values = call([count]() noexcept { return static_cast<Datum*>(palloc0(sizeof(Datum) * (count + 1))); });
        bool* nulls = call([count]() noexcept { return static_cast<bool*>(palloc0(sizeof(bool) * (count + 1))); });
        for (int i = 0; i < count; ++i) values[i] = cell_datum(row.cells[i], &nulls[i]);
        call([fcinfo, values, nulls]() noexcept {
            auto* result_info = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
            tuplestore_putvalues(result_info->setResult, result_info->setDesc, values, nulls);
        });
    }
    return 0;
}

Datum result_datum(FunctionCallInfo fcinfo, Result& result) {
    if (std::holds_alternative<Null>(result)) {
        fcinfo->isnull = true;
        return 0;
    }
    if (const auto* flag = std::get_if<bool>(&result)) return BoolGetDatum(*flag);
    if (const auto* number = std::get_if<int>(&result)) return Int32GetDatum(*number);
    if (const auto* text = std::get_if<std::string>(&result)) {
        const char* value = text->c_str();
        return call([value]() noexcept { return CStringGetTextDatum(value); });
    }
    if (auto* row = std::get_if<ResultRow>(&result)) return row_datum(fcinfo, *row);
    return rows_datum(fcinfo, std::get<ResultRows>(result));
}

Datum run_implementation(FunctionCallInfo fcinfo, void* implementation) {
    Result result = (*static_cast<Implementation*>(implementation))(Arguments(fcinfo));
    return result_datum(fcinfo, result);
}

}  // namespace

// The one entry for every function: the implementation's C++ runs inside the boundary.
Datum run(FunctionCallInfo fcinfo, Implementation implementation) {
    return enter_function(fcinfo, run_implementation, &implementation);
}
}  // namespace claudable::pg

#define CLAUDABLE_SQL_FUNCTION(symbol, implementation)              \
    extern "C" {                                                    \
    PGDLLEXPORT Datum symbol(PG_FUNCTION_ARGS);                     \
    PG_FUNCTION_INFO_V1(symbol);                                    \
    }                                                               \
    extern "C" Datum symbol(PG_FUNCTION_ARGS) {                     \
        return claudable::pg::run(fcinfo, implementation);          \
    }

CLAUDABLE_SQL_FUNCTION(claudable_provision, claudable::api::provision)
CLAUDABLE_SQL_FUNCTION(claudable_deprovision, claudable::api::deprovision)
CLAUDABLE_SQL_FUNCTION(claudable_rotate_password, claudable::api::rotate_password)
CLAUDABLE_SQL_FUNCTION(claudable_move_host, claudable::api::move_host)
CLAUDABLE_SQL_FUNCTION(claudable_repair_project, claudable::api::repair_project)
CLAUDABLE_SQL_FUNCTION(claudable_limits, claudable::api::limits)
CLAUDABLE_SQL_FUNCTION(claudable_pooler_auth_user, claudable::api::pooler_auth_user)
CLAUDABLE_SQL_FUNCTION(claudable_rotate_key, claudable::api::rotate_key)
CLAUDABLE_SQL_FUNCTION(claudable_export_key, claudable::api::export_key)
CLAUDABLE_SQL_FUNCTION(claudable_import_key, claudable::api::import_key)
CLAUDABLE_SQL_FUNCTION(claudable_adopt_key_of_0_2_0, claudable::api::adopt_key_of_0_2_0)
CLAUDABLE_SQL_FUNCTION(claudable_credential_findings, claudable::api::credential_findings)
CLAUDABLE_SQL_FUNCTION(claudable_written_verifiers, claudable::api::written_verifiers)
CLAUDABLE_SQL_FUNCTION(claudable_owned_elsewhere, claudable::api::owned_elsewhere)
CLAUDABLE_SQL_FUNCTION(claudable_refill_spares, claudable::api::refill_spares)
CLAUDABLE_SQL_FUNCTION(claudable_spare_settings, claudable::api::spare_settings)
CLAUDABLE_SQL_FUNCTION(claudable_snapshot, claudable::api::snapshot)
CLAUDABLE_SQL_FUNCTION(claudable_snapshots, claudable::api::snapshots)
CLAUDABLE_SQL_FUNCTION(claudable_restore, claudable::api::restore)
CLAUDABLE_SQL_FUNCTION(claudable_drop_snapshot, claudable::api::drop_snapshot)
CLAUDABLE_SQL_FUNCTION(claudable_branch, claudable::api::branch)
CLAUDABLE_SQL_FUNCTION(claudable_settle_snapshots, claudable::api::settle_snapshots)
