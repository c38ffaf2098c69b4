// The library (claudable::Client) against the throwaway cluster test/client/client_suite.sh
// starts; fails (not skips) without it: CLAUDABLE_TEST_ADMIN_URL (README's deploy role, over
// TCP, with its password), CLAUDABLE_TEST_SERVER_STOP / _START and
// CLAUDABLE_TEST_SUPERUSER_PSQL (to look at what a call changed, never to make it).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "claudable/client.hpp"

namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// The output of one query as the superuser, or "(no superuser)".
std::string as_superuser(const std::string& sql) {
    const std::string psql = env("CLAUDABLE_TEST_SUPERUSER_PSQL");
    if (psql.empty()) return "(no superuser)";
    const auto out = std::filesystem::temp_directory_path() / ("claudable-library-tests-" + std::to_string(::getpid()));
    (void)std::system((psql + " -c " + quote(sql) + " >" + out.string() + " 2>&1").c_str());
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    std::filesystem::remove(out);
    std::string result = text.str();
    while (!result.empty() && result.back() == '\n') result.pop_back();
    return result;
}

class KeptConnection : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(env("CLAUDABLE_TEST_ADMIN_URL").empty()) << "CLAUDABLE_TEST_ADMIN_URL is not set: run test/client/client_suite.sh";
        ASSERT_FALSE(env("CLAUDABLE_TEST_SERVER_STOP").empty() || env("CLAUDABLE_TEST_SERVER_START").empty())
            << "CLAUDABLE_TEST_SERVER_STOP/START are not set";
        ASSERT_FALSE(env("CLAUDABLE_TEST_SUPERUSER_PSQL").empty()) << "CLAUDABLE_TEST_SUPERUSER_PSQL is not set";
        options.on_retry = [this](int, const claudable::Error&) { ++retries; };
        client = std::make_unique<claudable::Client>(env("CLAUDABLE_TEST_ADMIN_URL"), options);
    }

    // The client's connection is open and idle on the server; then the server is stopped
    // (fast: its idle session ends with FATAL 57P01) and started again.
    void restart_under_the_kept_connection() {
        // (A connection an earlier test closed may take a moment to leave pg_stat_activity.)
        std::string idle;
        for (int i = 0; i < 50; ++i) {
            idle = as_superuser("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'claudable client'"
                                " AND usename = 'deploy_service' AND state = 'idle'");
            if (idle == "1") break;
            ::usleep(100 * 1000);
        }
        ASSERT_EQ(idle, "1") << "the client keeps one connection, idle between calls";
        const std::string started = as_superuser("SELECT pg_postmaster_start_time()");
        ASSERT_EQ(std::system(env("CLAUDABLE_TEST_SERVER_STOP").c_str()), 0);
        ASSERT_EQ(std::system(env("CLAUDABLE_TEST_SERVER_START").c_str()), 0);
        ASSERT_NE(as_superuser("SELECT pg_postmaster_start_time()"), started) << "the server really restarted";
    }

    claudable::ClientOptions options;
    int retries = 0;
    std::unique_ptr<claudable::Client> client;
};

}  // namespace

// The server ended the kept session before the deprovision was written: the call goes out on
// a new connection, runs once, and returns its own result, not OutcomeUnknown.
TEST_F(KeptConnection, ADeprovisionAfterARestartReturnsItsResult) {
    client->provision("lib-kept-depro", "team-lib");
    restart_under_the_kept_connection();
    bool removed = false;
    try {
        removed = client->deprovision("lib-kept-depro", "team-lib");
    } catch (const claudable::Error& e) {
        FAIL() << "SQLSTATE " << e.sqlstate() << ": " << e.what();
    }
    EXPECT_TRUE(removed);
    EXPECT_EQ(retries, 0) << "nothing failed that needed a retry: the ended session was seen before sending";
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.events WHERE action = 'deprovision'"
                           " AND project_id = 'lib-kept-depro' AND outcome = 'succeeded'"),
              "1")
        << "the server saw exactly one deprovisioning";
}

// The same for a rotation: sent once, on the new connection, and its new password returned.
TEST_F(KeptConnection, ARotateAfterARestartReturnsTheNewPassword) {
    const claudable::ProvisionedProject before = client->provision("lib-kept-rotate", "team-lib");
    restart_under_the_kept_connection();
    std::string rotated;
    try {
        rotated = client->rotate_password("lib-kept-rotate", "team-lib").password.reveal();
    } catch (const claudable::Error& e) {
        FAIL() << "SQLSTATE " << e.sqlstate() << ": " << e.what();
    }
    // Compared, never printed: a failure shows no password.
    EXPECT_TRUE(!rotated.empty() && rotated != before.password.reveal()) << "a new password";
    EXPECT_TRUE(client->provision("lib-kept-rotate", "team-lib").password.reveal() == rotated) << "it is the current one";
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.events WHERE action = 'rotate'"
                           " AND project_id = 'lib-kept-rotate' AND outcome = 'succeeded'"),
              "1");
}

// A snapshot and a restore are not idempotent: on a kept connection the server ended while it
// sat idle, each is written once, on a new connection, and returns its own result.
TEST_F(KeptConnection, ASnapshotAfterARestartIsMadeOnce) {
    client->provision("lib-kept-snap", "team-lib");
    restart_under_the_kept_connection();
    std::string id;
    try {
        id = client->snapshot("lib-kept-snap", "team-lib", "after a restart").snapshot_id;
    } catch (const claudable::Error& e) {
        FAIL() << "SQLSTATE " << e.sqlstate() << ": " << e.what();
    }
    EXPECT_EQ(retries, 0) << "the ended session was seen before sending";
    const auto list = client->snapshots("lib-kept-snap", "team-lib");
    ASSERT_EQ(list.size(), 1u) << "exactly one snapshot";
    EXPECT_EQ(list[0].snapshot_id, id);
    EXPECT_EQ(list[0].label, std::optional<std::string>("after a restart"));
}
TEST_F(KeptConnection, ARestoreAfterARestartIsSentOnceAndReturnsTheProjectsRow) {
    const claudable::ProvisionedProject before = client->provision("lib-kept-restore", "team-lib");
    const std::string id = client->snapshot("lib-kept-restore", "team-lib").snapshot_id;
    restart_under_the_kept_connection();
    claudable::ProvisionedProject restored;
    try {
        restored = client->restore("lib-kept-restore", "team-lib", id);
    } catch (const claudable::Error& e) {
        FAIL() << "SQLSTATE " << e.sqlstate() << ": " << e.what();
    }
    EXPECT_EQ(retries, 0);
    EXPECT_FALSE(restored.created);
    // Compared, never printed: a failure shows no password.
    EXPECT_TRUE(restored.password.reveal() == before.password.reveal() &&
                restored.database_url.reveal() == before.database_url.reveal())
        << "the same password and URL";
    int before_restore = 0;
    for (const auto& s : client->snapshots("lib-kept-restore", "team-lib"))
        before_restore += s.label == std::optional<std::string>("before restore of " + id);
    EXPECT_EQ(before_restore, 1) << "the server restored exactly once";
}

namespace {
// The library's typed errors for the 0.7.0 calls, against the suite's cluster as README's deploy role.
class SnapshotsAndBranches : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(env("CLAUDABLE_TEST_ADMIN_URL").empty()) << "CLAUDABLE_TEST_ADMIN_URL is not set: run test/client/client_suite.sh";
        ASSERT_FALSE(env("CLAUDABLE_TEST_SUPERUSER_PSQL").empty()) << "CLAUDABLE_TEST_SUPERUSER_PSQL is not set";
        client = std::make_unique<claudable::Client>(env("CLAUDABLE_TEST_ADMIN_URL"));
    }
    // The SQLSTATE of the error `call` throws as `Kind`; "(no error)" or "(another type: ...)" else.
    template <typename Kind, typename Call>
    static std::string thrown(Call&& call) {
        try {
            call();
        } catch (const Kind& e) {
            return e.sqlstate();
        } catch (const claudable::Error& e) {
            return "(another type: " + e.sqlstate() + ")";
        }
        return "(no error)";
    }
    std::unique_ptr<claudable::Client> client;
};
}  // namespace

TEST_F(SnapshotsAndBranches, AWrongOwnerIsPermissionDeniedForEveryCall) {
    client->provision("lib-own", "team-lib");
    const std::string id = client->snapshot("lib-own", "team-lib").snapshot_id;
    using claudable::PermissionDenied;
    EXPECT_EQ(thrown<PermissionDenied>([&] { client->snapshot("lib-own", "intruder"); }), "42501");
    EXPECT_EQ(thrown<PermissionDenied>([&] { client->snapshots("lib-own", "intruder"); }), "42501");
    EXPECT_EQ(thrown<PermissionDenied>([&] { client->restore("lib-own", "intruder", id); }), "42501");
    EXPECT_EQ(thrown<PermissionDenied>([&] { client->drop_snapshot("lib-own", "intruder", id); }), "42501");
    EXPECT_EQ(thrown<PermissionDenied>([&] { client->branch("lib-own", "intruder", "stolen"); }), "42501");
    EXPECT_EQ(thrown<PermissionDenied>([&] { client->branch("lib-own", "intruder", "stolen", id); }), "42501");
    EXPECT_EQ(client->snapshots("lib-own", "team-lib").size(), 1u) << "nothing was made or dropped";
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.projects WHERE project_id LIKE 'lib-own~%'"), "0");
}
TEST_F(SnapshotsAndBranches, ABadBranchIdIsInvalidInput) {
    client->provision("lib-badbr", "team-lib");
    for (const std::string bad : {std::string("bad id!"), std::string("_lead"), std::string("a~b"), std::string(64, 'b'),
                                  std::string()})
        EXPECT_EQ(thrown<claudable::InvalidInput>([&] { client->branch("lib-badbr", "team-lib", bad); }), "22023") << bad;
    EXPECT_EQ(thrown<claudable::InvalidInput>([&] { client->branch("lib-badbr", "team-lib", "ok", "yesterday"); }), "22023")
        << "a source that is neither current, empty nor a snapshot id";
    EXPECT_EQ(thrown<claudable::InvalidInput>([&] { client->restore("lib-badbr", "team-lib", "snap-XYZ"); }), "22023");
    EXPECT_EQ(thrown<claudable::InvalidInput>([&] { client->snapshot("lib-badbr", "team-lib", std::string(201, 'l')); }),
              "22023");
    EXPECT_EQ(thrown<claudable::InvalidInput>([&] { client->snapshot("lib-badbr", "team-lib", std::string("a\nb")); }),
              "22023");
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.projects WHERE project_id LIKE 'lib-badbr~%'"), "0");
    EXPECT_TRUE(client->snapshots("lib-badbr", "team-lib").empty());
}
TEST_F(SnapshotsAndBranches, ABranchOfABranchIsInvalidInput) {
    client->provision("lib-deep", "team-lib");
    EXPECT_TRUE(client->branch("lib-deep", "team-lib", "one").created);
    EXPECT_EQ(thrown<claudable::InvalidInput>([&] { client->branch("lib-deep~one", "team-lib", "two"); }), "0A000");
}
TEST_F(SnapshotsAndBranches, ABranchIsAProjectTheOtherCallsTakeWithTheParentsOwner) {
    client->provision("lib-br", "team-lib");
    const claudable::ProvisionedProject b = client->branch("lib-br", "team-lib", "pr-7", "empty");
    EXPECT_EQ(b.project_id, "lib-br~pr-7");
    EXPECT_TRUE(client->provision("lib-br~pr-7", "team-lib").password.reveal() == b.password.reveal());
    EXPECT_EQ(client->snapshot("lib-br~pr-7", "team-lib").project_id, "lib-br~pr-7");
    EXPECT_TRUE(client->deprovision("lib-br~pr-7", "team-lib"));
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.projects WHERE project_id = 'lib-br~pr-7'"), "0");
}
TEST_F(SnapshotsAndBranches, ABranchKeepsTheExpiryItWasGiven) {
    client->provision("lib-exp", "team-lib");
    client->branch("lib-exp", "team-lib", "until", "current", claudable::parse_timestamp("2031-01-02T03:04:05.123456Z"));
    EXPECT_EQ(as_superuser("SELECT expires_at AT TIME ZONE 'UTC' FROM claudable.databases WHERE project_id = 'lib-exp~until'"),
              "2031-01-02 03:04:05.123456");
}
