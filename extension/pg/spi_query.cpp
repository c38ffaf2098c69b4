#include "pg/spi_query.hpp"

#include "pg/boundary.hpp"

namespace claudable::pg {
namespace {

struct RawResult {
    int rows;
    int columns;
    char** values;  // rows * columns, NULL for SQL NULL
    int* lengths;
};

// Deterministic text for the types the extension reads, independent of DateStyle,
// bytea_output and the like.
void copy_cell(MemoryContext into, HeapTuple tuple, TupleDesc desc, int column, char** value, int* length) {
    bool is_null = false;
    Datum datum = SPI_getbinval(tuple, desc, column, &is_null);
    if (is_null) {
        *value = nullptr;
        *length = 0;
        return;
    }
    Oid type = SPI_gettypeid(desc, column);
    const char* text = nullptr;
    int text_length = -1;
    char number[32];
    switch (type) {
        case BYTEAOID: {
            bytea* raw = DatumGetByteaPP(datum);
            text = VARDATA_ANY(raw);
            text_length = VARSIZE_ANY_EXHDR(raw);
            break;
        }
        case INT4OID:
            snprintf(number, sizeof number, "%d", DatumGetInt32(datum));
            text = number;
            break;
        case INT8OID:
        case TIMESTAMPTZOID:
            snprintf(number, sizeof number, INT64_FORMAT, DatumGetInt64(datum));
            text = number;
            break;
        case OIDOID:
            snprintf(number, sizeof number, "%u", DatumGetObjectId(datum));
            text = number;
            break;
        case BOOLOID:
            text = DatumGetBool(datum) ? "t" : "f";
            break;
        default:
            text = SPI_getvalue(tuple, desc, column);
            break;
    }
    if (text_length < 0) text_length = static_cast<int>(strlen(text));
    char* copy = static_cast<char*>(MemoryContextAlloc(into, text_length + 1));
    memcpy(copy, text, text_length);
    copy[text_length] = '\0';
    *value = copy;
    *length = text_length;
}

Datum param_datum(const Param& param) {
    if (param.type == INT4OID) return Int32GetDatum(pg_strtoint32(param.value.c_str()));
    if (param.type == INT8OID) return Int64GetDatum(pg_strtoint64(param.value.c_str()));
    // text and bytea share the varlena layout
    bytea* raw = static_cast<bytea*>(palloc(VARHDRSZ + param.value.size()));
    SET_VARSIZE(raw, VARHDRSZ + param.value.size());
    memcpy(VARDATA(raw), param.value.data(), param.value.size());
    return PointerGetDatum(raw);
}

}  // namespace

Param text_param(std::string_view value) { return Param{TEXTOID, std::string(value)}; }
Param bytea_param(std::string_view bytes) { return Param{BYTEAOID, std::string(bytes)}; }
Param int4_param(int value) { return Param{INT4OID, std::to_string(value)}; }
Param int8_param(long long value) { return Param{INT8OID, std::to_string(value)}; }

namespace {

// Plans are kept for the backend's life, one per statement text: every statement the
// extension runs is a constant with fixed parameter types, and the plan cache re-plans
// by itself when the catalogs change. This takes parsing and planning off the warm path.
struct CachedPlan {
    const char* sql;
    SPIPlanPtr plan;
};
CachedPlan plan_cache[64];
int plan_cache_size = 0;

SPIPlanPtr cached_plan(const char* sql, int count, Oid* types) {
    for (int i = 0; i < plan_cache_size; ++i)
        if (plan_cache[i].sql == sql) return plan_cache[i].plan;
    SPIPlanPtr plan = SPI_prepare(sql, count, types);
    if (plan == nullptr) elog(ERROR, "claudable: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    if (plan_cache_size == static_cast<int>(sizeof plan_cache / sizeof plan_cache[0])) return plan;  // not kept
    SPI_keepplan(plan);
    plan_cache[plan_cache_size++] = CachedPlan{sql, plan};
    return plan;
}

}  // namespace

std::vector<Row> query(const char* sql, const std::vector<Param>& params) {
    const int count = static_cast<int>(params.size());
    const Param* first = params.data();
    RawResult* raw = call([sql, count, first]() noexcept {
        MemoryContext caller_context = CurrentMemoryContext;
        Oid* types = static_cast<Oid*>(palloc0(sizeof(Oid) * (count + 1)));
        Datum* values = static_cast<Datum*>(palloc0(sizeof(Datum) * (count + 1)));
        for (int i = 0; i < count; ++i) {
            types[i] = first[i].type;
            values[i] = param_datum(first[i]);
        }
        SPI_connect();
        int rc = SPI_execute_plan(cached_plan(sql, count, types), values, nullptr, false, 0);
        if (rc < 0) elog(ERROR, "claudable: SPI_execute_plan failed: %s", SPI_result_code_string(rc));
        RawResult* result = static_cast<RawResult*>(MemoryContextAllocZero(caller_context, sizeof(RawResult)));
        if (SPI_tuptable != nullptr) {
            TupleDesc desc = SPI_tuptable->tupdesc;
            result->rows = static_cast<int>(SPI_processed);
            result->columns = desc->natts;
            std::size_t cells = static_cast<std::size_t>(result->rows) * result->columns + 1;
            result->values = static_cast<char**>(MemoryContextAllocZero(caller_context, sizeof(char*) * cells));
            result->lengths = static_cast<int*>(MemoryContextAllocZero(caller_context, sizeof(int) * cells));
            for (int r = 0; r < result->rows; ++r)
                for (int c = 0; c < result->columns; ++c) {
                    int at = r * result->columns + c;
                    copy_cell(caller_context, SPI_tuptable->vals[r], desc, c + 1, &result->values[at],
                              &result->lengths[at]);
                }
        }
        SPI_finish();
        return result;
    });

    std::vector<Row> rows(static_cast<std::size_t>(raw->rows));
    for (int r = 0; r < raw->rows; ++r)
        for (int c = 0; c < raw->columns; ++c) {
            int at = r * raw->columns + c;
            rows[r].push_back(raw->values[at] ? Cell(std::string(raw->values[at], raw->lengths[at])) : Cell());
        }
    call([raw]() noexcept {
        for (int i = 0; i < raw->rows * raw->columns; ++i)
            if (raw->values[i] != nullptr) pfree(raw->values[i]);
        if (raw->values != nullptr) pfree(raw->values);
        if (raw->lengths != nullptr) pfree(raw->lengths);
        pfree(raw);
    });
    return rows;
}

void run_top_level(const std::string& sql) {
    const char* text = sql.c_str();
    call([text]() noexcept {
        List* statements = raw_parser(text, RAW_PARSE_DEFAULT);
        ListCell* cell;
        foreach (cell, statements) {
            RawStmt* raw = lfirst_node(RawStmt, cell);
            PlannedStmt* planned = makeNode(PlannedStmt);
            planned->commandType = CMD_UTILITY;
            planned->canSetTag = true;
            planned->utilityStmt = raw->stmt;
            planned->stmt_location = raw->stmt_location;
            planned->stmt_len = raw->stmt_len;
            ProcessUtility(planned, text, false, PROCESS_UTILITY_TOPLEVEL, nullptr, nullptr, None_Receiver,
                           nullptr);
            CommandCounterIncrement();
        }
    });
}

std::int64_t as_int64(const Cell& cell) {
    return cell ? std::stoll(*cell) : 0;
}

}  // namespace claudable::pg
