// The boundary between PostgreSQL's longjmp errors and C++ exceptions, both ways.
//
//  * PostgreSQL -> C++: every PostgreSQL API call goes through pg::call(). Its body
//    is a noexcept lambda that creates no object with a destructor, so a longjmp out
//    of PostgreSQL crosses only frames that have nothing to clean up. The ERROR is
//    caught right there (PG_TRY) and rethrown as a C++ Failure.
//  * C++ -> PostgreSQL: SQL-callable functions and the worker's main run their C++
//    body through pg::enter_function() / pg::enter_worker(), which catch every
//    exception and only then, with no C++ frame left to unwind, raise ereport(ERROR).
#pragma once

#include <type_traits>

#include "pg/server.hpp"
#include "rules/failure.hpp"
#include "pg/headers.hpp"

namespace claudable::pg {

// Called only from PG_CATCH: copies the pending error into `into` and clears it.
ErrorData* take_pending_error(MemoryContext into) noexcept;
// Turns a copied error into a Failure (outside any PG_TRY) and frees the copy.
[[noreturn]] void throw_as_failure(ErrorData* error);

template <typename Body>
auto call(Body&& body) -> std::invoke_result_t<Body&> {
    static_assert(std::is_nothrow_invocable_v<Body&>,
                  "pg::call bodies must be noexcept lambdas: a C++ exception must not cross PG_TRY");
    using Result = std::invoke_result_t<Body&>;
    static_assert(std::is_void_v<Result> || std::is_scalar_v<Result>,
                  "pg::call results must be scalars (pointers, numbers): nothing a longjmp could skip");
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData* volatile caught = nullptr;
    if constexpr (std::is_void_v<Result>) {
        PG_TRY();
        { body(); }
        PG_CATCH();
        { caught = take_pending_error(caller_context); }
        PG_END_TRY();
        if (caught != nullptr) throw_as_failure(caught);
    } else {
        volatile Result result{};
        PG_TRY();
        { result = body(); }
        PG_CATCH();
        { caught = take_pending_error(caller_context); }
        PG_END_TRY();
        if (caught != nullptr) throw_as_failure(caught);
        return result;
    }
}

// Entry point of a SQL-callable function implemented in C++ (pg/sql_functions.cpp):
// `implementation` gets `context` back, so nothing C++ needs to live in the calling frame.
Datum enter_function(FunctionCallInfo fcinfo, Datum (*implementation)(FunctionCallInfo, void*), void* context);
// Entry point of any other callback PostgreSQL makes into C++ (a worker's main,
// _PG_init): a Failure is reported at `error_level` (LOG in a worker, which has
// nobody to return an ERROR to).
void enter_callback(void (*implementation)(Datum), Datum argument, int error_level);


}  // namespace claudable::pg
