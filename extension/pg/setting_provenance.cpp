#include "pg/setting_provenance.hpp"

#include "pg/boundary.hpp"

namespace claudable::settings {
namespace {

constexpr int max_noted = 64;
constexpr int name_size = 64;

// Plain C storage: filled and read inside pg::call, where no C++ object may be alive.
struct Placeholder {
    char name[name_size];
    GucSource reset_source;
};
Placeholder noted[max_noted];
int noted_count = 0;
char refused_names[max_noted * name_size] = "";

constexpr char prefix[] = "claudable.";

#if PG_VERSION_NUM >= 160000
int guc_variable_count(struct config_generic**& variables) {
    int count = 0;
    variables = get_guc_variables(&count);
    return count;
}
#else
int guc_variable_count(struct config_generic**& variables) {
    variables = get_guc_variables();
    return GetNumConfigOptions();
}
#endif

struct config_generic* find_variable(const char* name) {
    struct config_generic** variables = nullptr;
    const int count = guc_variable_count(variables);
    for (int i = 0; i < count; ++i)
        if (variables[i] != nullptr && pg_strcasecmp(variables[i]->name, name) == 0) return variables[i];
    return nullptr;
}

}  // namespace

void note_placeholders() {
    pg::call([]() noexcept {
        struct config_generic** variables = nullptr;
        const int count = guc_variable_count(variables);
        for (int i = 0; i < count && noted_count < max_noted; ++i) {
            struct config_generic* v = variables[i];
            if (v == nullptr || (v->flags & GUC_CUSTOM_PLACEHOLDER) == 0) continue;
            if (pg_strncasecmp(v->name, prefix, sizeof prefix - 1) != 0 || strlen(v->name) >= name_size) continue;
            if (v->reset_source == PGC_S_DEFAULT) continue;  // nothing given before the load
            strlcpy(noted[noted_count].name, v->name, name_size);
            noted[noted_count].reset_source = v->reset_source;
            ++noted_count;
        }
    });
}

void note_refused_placeholders() {
    pg::call([]() noexcept {
        for (int i = 0; i < noted_count; ++i) {
            struct config_generic* v = find_variable(noted[i].name);
            // Re-applied under the giver's rights, the value kept its source; refused, the
            // setting is back at its built-in default and the server's value is lost.
            if (v == nullptr || (v->flags & GUC_CUSTOM_PLACEHOLDER) != 0 || v->reset_source == noted[i].reset_source)
                continue;
            if (refused_names[0] != '\0') strlcat(refused_names, ", ", sizeof refused_names);
            strlcat(refused_names, noted[i].name, sizeof refused_names);
        }
    });
}

void require_server_values() {
    if (refused_names[0] == '\0') return;
    fail(sqlstate::insufficient_privilege,
         std::string("claudable: this session was started with ") + refused_names +
             " set by a role that may not set it, so the server's value is not known in this session",
         "PostgreSQL refused the value when claudable was loaded and fell back to the built-in default.",
         "Connect without -c claudable.* in options or PGOPTIONS: claudable's settings come from "
         "postgresql.conf or ALTER SYSTEM.");
}

}  // namespace claudable::settings
