// The `claudable` command as a deploy step or an operator runs it. Usage tests need no
// server; the others need the throwaway cluster that `make test` starts, and fail (not
// skip) without it: CLAUDABLE_TEST_ADMIN_URL (README's deploy role, made by its grant block,
// with a password, over TCP), CLAUDABLE_TEST_SERVER_STOP / _START (shell commands),
// CLAUDABLE_TEST_SUPERUSER_PSQL (a psql command line a test uses to hold a lock or to look at
// what a call changed, as a DBA would; never to make the call itself), and
// CLAUDABLE_TEST_POOLER_URL (README's pooler role, made by its grant block, for pgbouncer-config).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

struct CliRun {
    int code;
    std::string out;
    std::string err;
};

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::filesystem::path scratch =
    std::filesystem::temp_directory_path() / ("claudable-cli-tests-" + std::to_string(::getpid()));

CliRun claudable(const std::vector<std::string>& args, const std::string& env = {}) {
    std::filesystem::create_directories(scratch);
    std::string command = env + " " + quote(CLAUDABLE_CLI);
    for (const auto& a : args) command += " " + quote(a);
    const std::string out = (scratch / "out").string(), err = (scratch / "err").string();
    int status = std::system((command + " </dev/null >" + out + " 2>" + err).c_str());
    return CliRun{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

std::string admin_url() {
    const char* url = std::getenv("CLAUDABLE_TEST_ADMIN_URL");
    return url ? url : "";
}
std::string password_in(const std::string& url) {  // postgresql://user:PASSWORD@...
    const auto colon = url.find(':', url.find("://") + 3), at = url.find('@');
    return colon != std::string::npos && at != std::string::npos ? url.substr(colon + 1, at - colon - 1) : "";
}
std::string admin_password() { return password_in(admin_url()); }

CliRun as_admin(std::vector<std::string> args) {
    args.insert(args.begin(), {"--admin-url", admin_url()});
    return claudable(args);
}

class WithServer : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(admin_url().empty()) << "CLAUDABLE_TEST_ADMIN_URL is not set: run these through `make test`";
        ASSERT_FALSE(admin_password().empty()) << "the admin URL must carry a password";
    }
    // Nothing that identifies the admin connection or a project password reaches stderr.
    static void expect_no_secret(const CliRun& r, const std::string& project_password = {}) {
        EXPECT_EQ(r.err.find(admin_password()), std::string::npos) << "stderr holds the admin password";
        EXPECT_EQ(r.err.find(admin_url()), std::string::npos) << "stderr holds the admin URL";
        if (!project_password.empty()) EXPECT_EQ(r.err.find(project_password), std::string::npos);
    }
};

nlohmann::json json_of(const CliRun& r) { return nlohmann::json::parse(r.out); }

// The output of one query as the superuser (CLAUDABLE_TEST_SUPERUSER_PSQL), or "(no superuser)".
std::string as_superuser(const std::string& sql) {
    const char* psql = std::getenv("CLAUDABLE_TEST_SUPERUSER_PSQL");
    if (psql == nullptr) return "(no superuser)";
    std::filesystem::create_directories(scratch);
    const std::string out = (scratch / "superuser.out").string();
    (void)std::system((std::string(psql) + " -c " + quote(sql) + " >" + out + " 2>&1").c_str());
    std::string text = slurp(out);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

// The scratch directory goes with the test program.
class RemoveScratch : public ::testing::Environment {
public:
    void TearDown() override { std::filesystem::remove_all(scratch); }
};
[[maybe_unused]] const auto* const remove_scratch = ::testing::AddGlobalTestEnvironment(new RemoveScratch);

}  // namespace

TEST(Usage, NoSubcommandIsAUsageError) { EXPECT_EQ(claudable({}).code, 2); }
TEST(Usage, AnUnknownSubcommandIsAUsageError) { EXPECT_EQ(claudable({"frobnicate"}).code, 2); }
TEST(Usage, AMissingOwnerIsAUsageError) { EXPECT_EQ(claudable({"provision", "only-project"}).code, 2); }
TEST(Usage, EnvNeedsProjectsDir) { EXPECT_EQ(claudable({"env", "p", "o"}).code, 2); }
TEST(Usage, ExecNeedsACommand) { EXPECT_EQ(claudable({"exec", "p", "o"}).code, 2); }
TEST(Usage, AMalformedAdminUrlIsRefusedWithoutEchoingIt) {
    CliRun r = claudable({"provision", "p", "o", "--admin-url", "postgresql://admin:s3cr%zzet@127.0.0.1:1/db"});
    EXPECT_EQ(r.code, 3) << r.err;
    EXPECT_NE(r.err.find("malformed"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("s3cr"), std::string::npos) << "the password's bytes are echoed: " << r.err;
    EXPECT_EQ(r.err.find("%zz"), std::string::npos) << r.err;
}
TEST(Usage, PoolerSyncNeedsOut) { EXPECT_EQ(claudable({"pooler-sync"}).code, 2); }
TEST(Usage, PoolerSyncRefusesAnAuthUserThatCouldBreakALineBeforeConnecting) {
    CliRun r = claudable({"--admin-url", "postgresql://nobody@127.0.0.1:1/x", "pooler-sync", "--once", "--out",
                          (scratch / "never").string(), "--auth-user", "x\nauth_type = trust"});
    EXPECT_EQ(r.code, 3) << r.err;
    EXPECT_FALSE(std::filesystem::exists(scratch / "never"));
}
TEST(Usage, HelpWorksForEverySubcommand) {
    for (const char* sub : {"provision", "deprovision", "rotate", "list", "check", "env", "exec", "pgbouncer-config",
                            "snapshot", "snapshots", "restore", "drop-snapshot", "branch"}) {
        CliRun r = claudable({sub, "--help"});
        EXPECT_EQ(r.code, 0) << sub;
        EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub;
    }
}

TEST(Usage, RestoreNeedsASnapshotId) { EXPECT_EQ(claudable({"restore", "p", "o"}).code, 2); }
TEST(Usage, DropSnapshotNeedsASnapshotId) { EXPECT_EQ(claudable({"drop-snapshot", "p", "o"}).code, 2); }
TEST(Usage, BranchNeedsABranchId) { EXPECT_EQ(claudable({"branch", "p", "o"}).code, 2); }
TEST(Usage, SnapshotsTakesNoSnapshotId) { EXPECT_EQ(claudable({"snapshots", "p", "o", "snap-000000000000"}).code, 2); }
TEST(Usage, LabelIsAnOptionOfSnapshotOnly) {
    EXPECT_EQ(claudable({"restore", "p", "o", "snap-000000000000", "--label", "x"}).code, 2);
    EXPECT_EQ(claudable({"branch", "p", "o", "b", "--label", "x"}).code, 2);
}
TEST(Usage, SourceAndExpiresAtAreOptionsOfBranchOnly) {
    EXPECT_EQ(claudable({"snapshot", "p", "o", "--source", "empty"}).code, 2);
    EXPECT_EQ(claudable({"restore", "p", "o", "snap-000000000000", "--expires-at", "2026-12-31T00:00:00Z"}).code, 2);
}
// Refused before anything is sent: the admin URL names a port where nothing listens, so a
// call that went on would retry and exit 6.
TEST(Usage, BranchRefusesAnExpiresAtWithoutAnOffsetBeforeConnecting) {
    for (const char* when : {"2026-12-31T00:00:00", "tomorrow", "", "2026-02-30T00:00:00Z"}) {
        CliRun r = claudable({"--admin-url", "postgresql://deploy:s3cret@127.0.0.1:1/meta", "--retry-seconds", "5",
                              "branch", "p", "o", "b", "--expires-at", when});
        EXPECT_EQ(r.code, 3) << when << ": " << r.err;
        EXPECT_NE(r.err.find("invalid expires_at: it must be an RFC 3339 time with its offset"), std::string::npos)
            << r.err;
        EXPECT_EQ(r.err.find("retrying"), std::string::npos) << "nothing was sent: " << r.err;
        EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "");
    }
}

TEST_F(WithServer, ProvisionPrintsTheRowWithThePasswordMasked) {
    CliRun r = as_admin({"provision", "cli-shop", "team-cli"});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string password = json_of(as_admin({"--json", "provision", "cli-shop", "team-cli"}))["password"];
    EXPECT_NE(r.out.find("password       ********"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(":********@"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(password), std::string::npos) << "the human output shows the password";
}
TEST_F(WithServer, ProvisionJsonCarriesEveryColumn) {
    auto j = json_of(as_admin({"--json", "provision", "cli-json", "team-cli"}));
    for (const char* key : {"project_id", "owner_id", "database_name", "username", "password", "host", "port",
                            "database_url", "created", "created_at"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["database_name"], "app_db_cli_json");
    EXPECT_EQ(j["password"].get<std::string>().size(), 32u);
}
TEST_F(WithServer, ARepeatedProvisionReturnsTheSamePassword) {
    auto first = json_of(as_admin({"--json", "provision", "cli-repeat", "team-cli"}));
    auto again = json_of(as_admin({"--json", "provision", "cli-repeat", "team-cli"}));
    EXPECT_EQ(first["password"], again["password"]);
    EXPECT_EQ(again["created"], false);
}
TEST_F(WithServer, BadInputExitsWith3) {
    CliRun r = as_admin({"provision", "bad id!", "team-cli"});
    EXPECT_EQ(r.code, 3);
    EXPECT_NE(r.err.find("22023"), std::string::npos) << r.err;
    expect_no_secret(r);
}
TEST_F(WithServer, AWrongOwnerExitsWith4) {
    auto owned = json_of(as_admin({"--json", "provision", "cli-owned", "team-cli"}));
    CliRun r = as_admin({"provision", "cli-owned", "intruder"});
    EXPECT_EQ(r.code, 4);
    EXPECT_NE(r.err.find("42501"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("permission denied for project \"cli-owned\""), std::string::npos) << r.err;
    expect_no_secret(r, owned["password"]);
    auto after = json_of(as_admin({"--json", "provision", "cli-owned", "team-cli"}));
    EXPECT_TRUE(after["password"] == owned["password"] && after["owner_id"] == "team-cli") << "the refusal changed nothing";
}
TEST_F(WithServer, ANameCollisionExitsWith5) {
    ASSERT_EQ(as_admin({"provision", "cli-collide", "team-cli"}).code, 0);
    CliRun r = as_admin({"provision", "CLI-collide", "team-cli"});
    EXPECT_EQ(r.code, 5);
    EXPECT_NE(r.err.find("42710"), std::string::npos) << r.err;
    expect_no_secret(r);
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.projects WHERE project_id = 'CLI-collide'"), "0")
        << "the refused id left no row";
}
TEST_F(WithServer, AnUnreachableServerExitsWith6AfterRetries) {
    std::string unreachable = admin_url();
    const auto port_start = unreachable.rfind(':') + 1, port_end = unreachable.find('/', port_start);
    unreachable.replace(port_start, port_end - port_start, "1");
    CliRun r = claudable({"--admin-url", unreachable, "--retry-seconds", "1", "provision", "cli-down", "team-cli"});
    EXPECT_EQ(r.code, 6);
    EXPECT_NE(r.err.find("retrying"), std::string::npos) << "it retried: " << r.err;
    expect_no_secret(r);
    EXPECT_EQ(r.err.find(unreachable), std::string::npos);
}
TEST_F(WithServer, AWrongAdminPasswordIsRefusedAtOnceAndNotRetried) {
    std::string wrong = admin_url();
    wrong.replace(wrong.find(admin_password()), admin_password().size(), "not-the-password");
    CliRun r = claudable({"--admin-url", wrong, "--retry-seconds", "30", "provision", "cli-wrong-pw", "team-cli"});
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("the server refused the admin login"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("password authentication failed for user \"deploy_service\""), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("retrying"), std::string::npos) << "a refused login is not a transient fault: " << r.err;
    EXPECT_EQ(r.err.find("not-the-password"), std::string::npos) << "stderr holds the password it was given";
    expect_no_secret(r);
}
TEST_F(WithServer, TheAdminUrlCanComeFromDbAdminUrl) {
    CliRun r = claudable({"provision", "cli-env-var", "team-cli"}, "DB_ADMIN_URL=" + quote(admin_url()));
    EXPECT_EQ(r.code, 0) << r.err;
}
TEST_F(WithServer, RotateGivesANewPassword) {
    auto before = json_of(as_admin({"--json", "provision", "cli-rotate", "team-cli"}));
    CliRun r = as_admin({"--json", "rotate", "cli-rotate", "team-cli"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(json_of(r)["password"], before["password"]);
    EXPECT_EQ(json_of(as_admin({"--json", "provision", "cli-rotate", "team-cli"}))["password"], json_of(r)["password"]);
}
TEST_F(WithServer, ListAndCheckWork) {
    ASSERT_EQ(as_admin({"provision", "cli-listed", "team-cli"}).code, 0);
    auto rows = json_of(as_admin({"--json", "list"}));
    bool found = false;
    for (const auto& row : rows) found = found || row["project_id"] == "cli-listed";
    EXPECT_TRUE(found);
    EXPECT_FALSE(json_of(as_admin({"--json", "list"})).dump().find("password") != std::string::npos);
    CliRun check = as_admin({"check"});
    EXPECT_EQ(check.code, 0) << check.err;
    EXPECT_TRUE(json_of(as_admin({"--json", "check"})).is_array());
}
TEST_F(WithServer, EnvWritesDatabaseUrlIntoTheProjectsEnvFile) {
    const auto projects = scratch / "projects";
    std::filesystem::create_directories(projects / "cli-env");
    { std::ofstream(projects / "cli-env/.env.production") << "NODE_ENV=production\r\nDATABASE_URL=stale\r\n"; }
    CliRun r = as_admin({"env", "cli-env", "team-cli", "--projects-dir", projects.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string url = json_of(as_admin({"--json", "provision", "cli-env", "team-cli"}))["database_url"];
    EXPECT_EQ(slurp((projects / "cli-env/.env.production").string()),
              "NODE_ENV=production\r\nDATABASE_URL=" + url + "\r\nDIRECT_URL=" + url + "\r\n");
    EXPECT_EQ(r.out, "DATABASE_URL and DIRECT_URL written to " + projects.string() + "/cli-env/.env.production (mode 0600)\n");
    struct stat st {};
    ASSERT_EQ(::stat((projects / "cli-env/.env.production").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(r.out.find(url), std::string::npos) << "env prints no URL";
}
TEST_F(WithServer, EnvCreatesTheProjectDirectory) {
    const auto projects = scratch / "fresh-projects";
    std::filesystem::remove_all(projects);
    ASSERT_EQ(as_admin({"env", "cli-env-new", "team-cli", "--projects-dir", projects.string()}).code, 0);
    const std::string url = json_of(as_admin({"--json", "provision", "cli-env-new", "team-cli"}))["database_url"];
    EXPECT_EQ(slurp((projects / "cli-env-new/.env.production").string()),
              "DATABASE_URL=" + url + "\nDIRECT_URL=" + url + "\n");
    struct stat file {}, directory {};
    ASSERT_EQ(::stat((projects / "cli-env-new/.env.production").c_str(), &file), 0);
    ASSERT_EQ(::stat((projects / "cli-env-new").c_str(), &directory), 0);
    EXPECT_EQ(file.st_mode & 0777, 0600u);
    EXPECT_EQ(directory.st_mode & 0777, 0700u);
}
TEST_F(WithServer, ExecPassesDatabaseUrlAndTheExitStatus) {
    const std::string url = json_of(as_admin({"--json", "provision", "cli-exec", "team-cli"}))["database_url"];
    CliRun r = as_admin({"exec", "cli-exec", "team-cli", "--", "sh", "-c", "printf '%s' \"$DATABASE_URL\"; exit 7"});
    EXPECT_EQ(r.code, 7);
    EXPECT_EQ(r.out, url) << "stdout is the command's output and nothing else";
}
TEST_F(WithServer, ExecRunsACommandThatUsesTheDatabase) {
    CliRun r = as_admin({"exec", "cli-exec-psql", "team-cli", "--", "sh", "-c",
                         "psql \"$DATABASE_URL\" -X -At -c 'SELECT current_user'"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "app_u_cli_exec_psql\n");
}
TEST_F(WithServer, BootstrapRunsOnlyWhenTheDatabaseIsCreated) {
    const auto file = scratch / "bootstrap.sql";
    { std::ofstream(file) << "CREATE TABLE visits (id serial PRIMARY KEY);\nINSERT INTO visits DEFAULT VALUES;\n"; }
    ASSERT_EQ(as_admin({"provision", "cli-boot", "team-cli", "--bootstrap", file.string()}).code, 0);
    CliRun again = as_admin({"provision", "cli-boot", "team-cli", "--bootstrap", file.string()});
    EXPECT_EQ(again.code, 0) << "a second run would fail on CREATE TABLE if it ran again: " << again.err;
    CliRun r = as_admin({"exec", "cli-boot", "team-cli", "--", "sh", "-c",
                         "psql \"$DATABASE_URL\" -X -At -c \"SELECT current_user || ' ' || count(*) FROM visits\""});
    EXPECT_EQ(r.out, "app_u_cli_boot 1\n") << "the table was made by the project's own role, once";
}
TEST_F(WithServer, DeprovisionRemovesTheProjectOnce) {
    ASSERT_EQ(as_admin({"provision", "cli-gone", "team-cli"}).code, 0);
    CliRun r = as_admin({"deprovision", "cli-gone", "team-cli"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, "deprovisioned cli-gone\n");
    EXPECT_EQ(as_admin({"deprovision", "cli-gone", "team-cli"}).out, "nothing to deprovision for cli-gone\n");
}
TEST_F(WithServer, ATransientFaultIsSurvived) {
    const char* stop = std::getenv("CLAUDABLE_TEST_SERVER_STOP");
    const char* start = std::getenv("CLAUDABLE_TEST_SERVER_START");
    ASSERT_TRUE(stop && start) << "CLAUDABLE_TEST_SERVER_STOP/START are not set";
    ASSERT_EQ(std::system(stop), 0);
    int start_status = -1;
    std::thread restart([start, &start_status] {
        std::this_thread::sleep_for(std::chrono::seconds(2));
        start_status = std::system(start);
    });
    CliRun r = as_admin({"--retry-seconds", "30", "provision", "cli-restart", "team-cli"});
    restart.join();
    EXPECT_EQ(start_status, 0) << "the server started again";
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("retrying after a transient fault"), std::string::npos) << "the server really was down";
    EXPECT_EQ(as_superuser("SELECT status FROM claudable.projects WHERE project_id = 'cli-restart'"), "ready");
    expect_no_secret(r);
}

TEST_F(WithServer, GlobalOptionsWorkAfterTheSubcommand) {
    CliRun r = claudable({"provision", "cli-opts-after", "team-cli", "--json", "--admin-url", admin_url(),
                          "--retry-seconds", "1"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(json_of(r)["database_name"], "app_db_cli_opts_after");
    CliRun mixed = claudable({"--json", "list", "--admin-url", admin_url()});
    ASSERT_EQ(mixed.code, 0) << mixed.err;
    EXPECT_TRUE(json_of(mixed).is_array());
}
TEST_F(WithServer, ExecGivesTheAppNoAdminCredentials) {
    // The test's own variables (which hold the admin URL too) are not the CLI's to scrub.
    const std::string env = "env -u CLAUDABLE_TEST_ADMIN_URL -u CLAUDABLE_TEST_SUPERUSER_PSQL DB_ADMIN_URL=" +
                            quote(admin_url()) +
                            " PGPASSWORD=admin-secret PGPASSFILE=/root/.pgpass PGSERVICEFILE=/nonexistent/pg_service.conf PGUSER=postgres"
                            " PGHOST=/tmp KEEP_ME=yes";
    CliRun r = claudable({"exec", "cli-exec-env", "team-cli", "--pass", "KEEP_ME", "--", "env"}, env);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("DATABASE_URL=postgresql://app_u_cli_exec_env:"), std::string::npos);
    EXPECT_NE(r.out.find("KEEP_ME=yes"), std::string::npos) << "a variable named with --pass reaches the app";
    for (const char* leaked : {"DB_ADMIN_URL", "PGPASSWORD", "PGPASSFILE", "PGSERVICEFILE", "PGUSER", "PGHOST", "admin-secret"})
        EXPECT_EQ(r.out.find(leaked), std::string::npos) << leaked << " reached the app";
    EXPECT_EQ(r.out.find(admin_password()), std::string::npos);
}
TEST_F(WithServer, ExecGivesTheAppOnlyTheBaseListTheNamesPassedAndTheDatabaseVariables) {
    // The platform's process as an attacker would like it: its secrets, the deploy service's
    // credentials, variables that change how Node or a Next.js build runs.
    const std::string env =
        "env -i PATH=/usr/bin:/bin HOME=/home/app NODE_ENV=production PORT=3000 TZ=UTC LANG=C.UTF-8"
        " NEXTAUTH_SECRET=nextauth-secret AWS_SECRET_ACCESS_KEY=aws-secret"
        " POSTGRES_URL=postgresql://platform:platform-secret@db/platform NODE_OPTIONS=--require=/tmp/evil.js"
        " __NEXT_PRIVATE_PREBUNDLED_REACT=next __NEXT_PRIVATE_ORIGIN=http://internal-origin PGPASSWORD=pg-secret"
        " DATABASE_URL=stale DIRECT_URL=stale STRIPE_SECRET_KEY=sk_live_x DB_ADMIN_URL=" + quote(admin_url());
    CliRun r = claudable({"exec", "cli-exec-attack", "team-cli", "--pass", "STRIPE_SECRET_KEY", "--", "env"}, env);
    ASSERT_EQ(r.code, 0) << r.err;
    std::set<std::string> names;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) names.insert(line.substr(0, line.find('=')));
    EXPECT_EQ(names, (std::set<std::string>{"PATH", "HOME", "NODE_ENV", "PORT", "TZ", "LANG", "STRIPE_SECRET_KEY",
                                            "DATABASE_URL", "DIRECT_URL"}));
    for (const char* leaked : {"nextauth-secret", "aws-secret", "platform-secret", "evil.js", "internal-origin",
                               "pg-secret", "stale"})
        EXPECT_EQ(r.out.find(leaked), std::string::npos) << leaked << " reached the app";
    EXPECT_EQ(r.out.find(admin_password()), std::string::npos);
}
TEST_F(WithServer, ExecRefusesToPassDbAdminUrlOrAPgVariableBeforeProvisioning) {
    for (const std::string name : {"DB_ADMIN_URL", "PGPASSWORD", "PGSERVICE", "DATABASE_URL"}) {
        CliRun r = claudable({"--admin-url", admin_url(), "exec", "cli-exec-refused", "team-cli", "--pass", "PATH",
                              "--pass", name, "--", "env"},
                             "PGPASSWORD=pg-secret");
        EXPECT_EQ(r.code, 3) << name << ": " << r.err;
        EXPECT_NE(r.err.find(name + " may not be passed to the app"), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "") << "the command did not run";
        expect_no_secret(r);
        EXPECT_EQ(r.err.find("pg-secret"), std::string::npos);
    }
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.projects WHERE project_id = 'cli-exec-refused'"), "0")
        << "nothing was provisioned";
}
TEST_F(WithServer, ExecAndEnvGiveThePooledUrlAsDatabaseUrlAndTheDirectOneAsDirectUrl) {
    // The DBA sets a pooler for the metadata database; the CLI's next session has it.
    const char* database = std::getenv("CLAUDABLE_TEST_DATABASE");
    ASSERT_TRUE(database != nullptr) << "CLAUDABLE_TEST_DATABASE is not set";
    as_superuser(std::string("ALTER DATABASE ") + database + " SET claudable.pooler_host = '127.0.0.1'");
    const nlohmann::json row = json_of(as_admin({"--json", "provision", "cli-pooled", "team-cli"}));
    CliRun exec = as_admin({"exec", "cli-pooled", "team-cli", "--", "sh", "-c",
                            "printf '%s\\n%s\\n' \"$DATABASE_URL\" \"$DIRECT_URL\""});
    const auto projects = scratch / "pooled-projects";
    std::filesystem::remove_all(projects);
    CliRun env = as_admin({"env", "cli-pooled", "team-cli", "--projects-dir", projects.string()});
    as_superuser(std::string("ALTER DATABASE ") + database + " RESET claudable.pooler_host");
    ASSERT_TRUE(row["pooled_database_url"].is_string()) << "the row has a pooled URL once the DBA set a pooler";
    const std::string pooled = row["pooled_database_url"], direct = row["database_url"];
    EXPECT_NE(pooled.find("@127.0.0.1:6432/app_db_cli_pooled"), std::string::npos);
    ASSERT_EQ(exec.code, 0) << exec.err;
    EXPECT_EQ(exec.out, pooled + "\n" + direct + "\n");
    ASSERT_EQ(env.code, 0) << env.err;
    EXPECT_EQ(slurp((projects / "cli-pooled/.env.production").string()),
              "DATABASE_URL=" + pooled + "\nDIRECT_URL=" + direct + "\n");
    // Without a pooler, both are the direct URL.
    CliRun plain = as_admin({"exec", "cli-pooled", "team-cli", "--", "sh", "-c",
                             "printf '%s\\n%s\\n' \"$DATABASE_URL\" \"$DIRECT_URL\""});
    EXPECT_EQ(plain.out, direct + "\n" + direct + "\n");
}
TEST_F(WithServer, EnvRefusesASymlinkedEnvFileWithExitCode3) {
    const auto projects = scratch / "linked-projects";
    std::filesystem::remove_all(projects);
    std::filesystem::create_directories(projects / "cli-env-link");
    { std::ofstream(scratch / "pgpass") << "h:5432:*:postgres:admin-secret\n"; }
    std::filesystem::create_symlink(scratch / "pgpass", projects / "cli-env-link/.env.production");
    CliRun r = as_admin({"env", "cli-env-link", "team-cli", "--projects-dir", projects.string()});
    EXPECT_EQ(r.code, 3) << r.err;
    EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
    EXPECT_EQ(slurp((scratch / "pgpass").string()), "h:5432:*:postgres:admin-secret\n");
}

namespace {
// Runs `args` while a superuser session holds `lock` (a FROM clause) for 6 s, and
// terminates the CLI's backend once it waits: the connection breaks after the call was sent.
CliRun run_and_lose_the_connection(const std::vector<std::string>& args, const std::string& lock) {
    const char* psql = std::getenv("CLAUDABLE_TEST_SUPERUSER_PSQL");
    EXPECT_TRUE(psql != nullptr) << "CLAUDABLE_TEST_SUPERUSER_PSQL is not set";
    if (psql == nullptr) return CliRun{-1, "", ""};
    const std::string holder = std::string(psql) + " -c \"SELECT 1 FROM " + lock +
                               " FOR UPDATE; SELECT pg_sleep(6)\" >/dev/null 2>&1 &";
    (void)std::system(holder.c_str());  // backgrounded: its status says nothing; the lock is checked below
    const std::string holding = std::string(psql) +
        " -c \"SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(6)%' AND wait_event = 'PgSleep'\" | grep -q 1";
    bool held = false;
    for (int i = 0; i < 100 && !(held = std::system(holding.c_str()) == 0); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(held) << "the superuser session holds the lock before the call";
    if (!held) return CliRun{-1, "", ""};
    std::thread killer([psql] {
        for (int i = 0; i < 100; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            const std::string kill = std::string(psql) +
                " -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'claudable client'"
                " AND state = 'active' AND now() - query_start > interval '300 ms'\" | grep -q t";
            if (std::system(kill.c_str()) == 0) break;
        }
    });
    CliRun r = as_admin(args);
    killer.join();
    (void)std::system((std::string(psql) + " -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                           " WHERE query LIKE '%pg_sleep(6)%' AND pid <> pg_backend_pid()\" >/dev/null")
                          .c_str());
    return r;
}

// How many `action` events the server recorded for `project`, once its worker had time to
// finish alone (the call whose connection was lost goes on there).
std::string recorded_events(const std::string& action, const std::string& project) {
    const std::string sql = "SELECT count(*) FROM claudable.events WHERE action = '" + action +
                            "' AND project_id = '" + project + "' AND outcome = 'succeeded'";
    std::string count;
    for (int i = 0; i < 100 && (count = as_superuser(sql)) == "0"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return count;
}
}  // namespace

TEST_F(WithServer, ARotateWhoseConnectionIsLostIsReportedAsUnknownAndNotResent) {
    ASSERT_EQ(as_admin({"provision", "cli-lost-rotate", "team-cli"}).code, 0);
    CliRun r = run_and_lose_the_connection({"--retry-seconds", "30", "rotate", "cli-lost-rotate", "team-cli"},
                                           "claudable.projects WHERE project_id = 'cli-lost-rotate'");
    EXPECT_EQ(r.code, 7) << r.err;
    EXPECT_NE(r.err.find("may or may not have taken effect"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("retrying"), std::string::npos) << "a rotation is never re-sent: " << r.err;
    expect_no_secret(r);
    EXPECT_EQ(recorded_events("rotate", "cli-lost-rotate"), "1") << "the server saw exactly one rotation";
}
TEST_F(WithServer, ADeprovisionWhoseConnectionIsLostIsReportedAsUnknownAndNotResent) {
    ASSERT_EQ(as_admin({"provision", "cli-lost-depro", "team-cli"}).code, 0);
    CliRun r = run_and_lose_the_connection({"--retry-seconds", "30", "deprovision", "cli-lost-depro", "team-cli"},
                                           "claudable.projects WHERE project_id = 'cli-lost-depro'");
    EXPECT_EQ(r.code, 7) << r.err;
    EXPECT_NE(r.err.find("may or may not have taken effect"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("retrying"), std::string::npos) << r.err;
    EXPECT_EQ(recorded_events("deprovision", "cli-lost-depro"), "1") << "the server saw exactly one deprovisioning";
}
TEST_F(WithServer, AProvisionWhoseConnectionIsLostIsRetried) {
    CliRun r = run_and_lose_the_connection({"--retry-seconds", "30", "provision", "cli-lost-prov", "team-cli"},
                                           "claudable.provisioning_lock");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("retrying after a transient fault"), std::string::npos) << "the connection really was lost";
    expect_no_secret(r);
}

// ---- snapshots, restore and branches (claudable 0.7.0) -----------------------------------------
namespace {
// What `sql` prints when run as the app would, with the URL a command returned (psql over TCP),
// or "(failed)" and psql's own message (which holds no password).
std::string as_project(const std::string& url, const std::string& sql) {
    std::filesystem::create_directories(scratch);
    const std::string out = (scratch / "project.out").string();
    const int status = std::system(("APP_URL=" + quote(url) + " sh -c 'psql \"$APP_URL\" -X -q -At -v ON_ERROR_STOP=1 -c \"$1\"' sh " +
                                    quote(sql) + " >" + out + " 2>&1")
                                       .c_str());
    std::string text = slurp(out);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return status == 0 ? text : "(failed) " + text;
}

bool is_snapshot_id(const std::string& id) {
    return id.size() == 17 && id.rfind("snap-", 0) == 0 && id.find_first_not_of("0123456789abcdef", 5) == std::string::npos;
}

// A project of team-cli with a table `orders` holding `rows` (one id each), made by its own role;
// its row as `provision --json` gives it.
nlohmann::json project_with_orders(const std::string& project, const std::string& rows) {
    const nlohmann::json p = json_of(as_admin({"--json", "provision", project, "team-cli"}));
    EXPECT_EQ(as_project(p["database_url"], "CREATE TABLE orders (id int); INSERT INTO orders VALUES " + rows), "");
    return p;
}
std::string orders_in(const std::string& url) {
    return as_project(url, "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), 'none') FROM orders");
}
// The same check as expect_no_secret, for stdout: a human form shows no password and no URL
// with its password.
void expect_masked(const CliRun& r, const std::string& password) {
    EXPECT_FALSE(password.empty());
    EXPECT_EQ(r.out.find(password), std::string::npos) << "stdout shows the password";
    EXPECT_EQ(r.out.find(":" + password + "@"), std::string::npos);
}
}  // namespace

TEST_F(WithServer, ARestoreBringsTheSnapshotsDataBackAndTheSameUrlStillLogsIn) {
    const nlohmann::json p = project_with_orders("cli-snap", "(1), (2)");
    CliRun snap = as_admin({"--json", "snapshot", "cli-snap", "team-cli", "--label", "two orders"});
    ASSERT_EQ(snap.code, 0) << snap.err;
    const std::string id = json_of(snap)["snapshot_id"];
    EXPECT_TRUE(is_snapshot_id(id)) << id;
    EXPECT_EQ(json_of(snap)["label"], "two orders");
    ASSERT_EQ(as_project(p["database_url"], "DELETE FROM orders; INSERT INTO orders VALUES (99)"), "");
    ASSERT_EQ(orders_in(p["database_url"]), "99");

    CliRun r = as_admin({"restore", "cli-snap", "team-cli", id});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(orders_in(p["database_url"]), "1,2") << "the data is as it was at the snapshot";
    EXPECT_EQ(as_project(p["database_url"], "SELECT current_user"), "app_u_cli_snap") << "the same URL logs in";
    // The connection info, as provision prints it: the password and the URL's password masked.
    EXPECT_NE(r.out.find("project_id     cli-snap\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("password       ********\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("postgresql://app_u_cli_snap:********@"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("created        false\n"), std::string::npos) << r.out;
    expect_masked(r, p["password"]);
    expect_no_secret(r, p["password"]);
    const nlohmann::json after = json_of(as_admin({"--json", "provision", "cli-snap", "team-cli"}));
    EXPECT_TRUE(after["password"] == p["password"] && after["database_url"] == p["database_url"]) << "same password and URL";
}
TEST_F(WithServer, ARestoreJsonIsTheProjectsRowWithTheSamePassword) {
    const nlohmann::json p = project_with_orders("cli-snap-json", "(1)");
    const std::string id = json_of(as_admin({"--json", "snapshot", "cli-snap-json", "team-cli"}))["snapshot_id"];
    CliRun r = as_admin({"--json", "restore", "cli-snap-json", "team-cli", id});
    ASSERT_EQ(r.code, 0) << r.err;
    const nlohmann::json j = json_of(r);
    for (const char* key : {"project_id", "owner_id", "database_name", "username", "password", "host", "port",
                            "database_url", "created", "created_at", "pooled_database_url"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j["password"] == p["password"] && j["database_url"] == p["database_url"]);
    EXPECT_EQ(j["created"], false);
}
TEST_F(WithServer, ARestoreKeepsTheStateBeforeItAsASnapshotThatRestoresIt) {
    const nlohmann::json p = project_with_orders("cli-undo", "(1)");
    const std::string id = json_of(as_admin({"--json", "snapshot", "cli-undo", "team-cli"}))["snapshot_id"];
    ASSERT_EQ(as_project(p["database_url"], "INSERT INTO orders VALUES (2)"), "");
    ASSERT_EQ(as_admin({"restore", "cli-undo", "team-cli", id}).code, 0);
    const nlohmann::json list = json_of(as_admin({"--json", "snapshots", "cli-undo", "team-cli"}));
    ASSERT_EQ(list.size(), 2u) << list.dump();
    EXPECT_EQ(list[0]["label"], "before restore of " + id) << "newest first: " << list.dump();
    EXPECT_EQ(list[1]["snapshot_id"], id);
    ASSERT_EQ(as_admin({"restore", "cli-undo", "team-cli", list[0]["snapshot_id"]}).code, 0);
    EXPECT_EQ(orders_in(p["database_url"]), "1,2") << "the restore is undone";
}
TEST_F(WithServer, SnapshotsListsNewestFirstAndShowsNoSecret) {
    const nlohmann::json p = project_with_orders("cli-snaps", "(1)");
    const std::string first = json_of(as_admin({"--json", "snapshot", "cli-snaps", "team-cli", "--label", "first"}))["snapshot_id"];
    CliRun second = as_admin({"snapshot", "cli-snaps", "team-cli"});
    ASSERT_EQ(second.code, 0) << second.err;
    EXPECT_EQ(second.out.rfind("snapshot_id    snap-", 0), 0u) << second.out;
    EXPECT_NE(second.out.find("\nproject_id     cli-snaps\nlabel          \nsize_bytes     "), std::string::npos) << second.out;
    const nlohmann::json list = json_of(as_admin({"--json", "snapshots", "cli-snaps", "team-cli"}));
    ASSERT_EQ(list.size(), 2u) << list.dump();
    EXPECT_EQ(list[1]["snapshot_id"], first);
    EXPECT_EQ(list[1]["label"], "first");
    EXPECT_TRUE(list[0]["label"].is_null()) << "a snapshot made without a label has none";
    for (const auto& row : list) {
        EXPECT_EQ(row["project_id"], "cli-snaps");
        EXPECT_TRUE(row["size_bytes"].is_number_integer() && row["size_bytes"].get<std::int64_t>() > 0) << row.dump();
        EXPECT_EQ(row["created_at"].get<std::string>().back(), 'Z');
    }
    CliRun human = as_admin({"snapshots", "cli-snaps", "team-cli"});
    ASSERT_EQ(human.code, 0) << human.err;
    EXPECT_EQ(human.out.rfind("snapshot_id\tcreated_at\tsize_bytes\tlabel\n" + list[0]["snapshot_id"].get<std::string>() + "\t", 0), 0u)
        << human.out;
    EXPECT_NE(human.out.find("\n" + first + "\t"), std::string::npos) << human.out;
    EXPECT_NE(human.out.find("\tfirst\n"), std::string::npos) << human.out;
    for (const CliRun* run : {&second, &human}) {
        expect_masked(*run, p["password"]);
        EXPECT_EQ(run->out.find("postgresql://"), std::string::npos) << run->out;
        expect_no_secret(*run, p["password"]);
    }
}
TEST_F(WithServer, DropSnapshotDropsOnceAndThenFindsNothingToDrop) {
    project_with_orders("cli-drop", "(1)");
    const std::string id = json_of(as_admin({"--json", "snapshot", "cli-drop", "team-cli"}))["snapshot_id"];
    CliRun r = as_admin({"drop-snapshot", "cli-drop", "team-cli", id});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "dropped snapshot " + id + " of cli-drop\n");
    CliRun again = as_admin({"--json", "drop-snapshot", "cli-drop", "team-cli", id});
    ASSERT_EQ(again.code, 0) << again.err;
    EXPECT_EQ(json_of(again), (nlohmann::json{{"project_id", "cli-drop"}, {"snapshot_id", id}, {"dropped", false}}));
    EXPECT_EQ(as_admin({"drop-snapshot", "cli-drop", "team-cli", id}).out,
              "nothing to drop: cli-drop has no snapshot " + id + "\n");
    EXPECT_EQ(json_of(as_admin({"--json", "snapshots", "cli-drop", "team-cli"})), nlohmann::json::array());
    CliRun restore = as_admin({"restore", "cli-drop", "team-cli", id});
    EXPECT_EQ(restore.code, 1) << "a dropped snapshot is not this project's any more: " << restore.err;
    EXPECT_NE(restore.err.find("P0002"), std::string::npos) << restore.err;
}
TEST_F(WithServer, ABranchFromCurrentLogsInAsItsOwnRoleAndSeesTheProjectsData) {
    const nlohmann::json parent = project_with_orders("cli-br", "(1), (2)");
    CliRun r = as_admin({"--json", "branch", "cli-br", "team-cli", "pr-1"});
    ASSERT_EQ(r.code, 0) << r.err;
    const nlohmann::json b = json_of(r);
    EXPECT_EQ(b["project_id"], "cli-br~pr-1");
    EXPECT_EQ(b["owner_id"], "team-cli");
    EXPECT_EQ(b["created"], true);
    EXPECT_NE(b["username"], parent["username"]);
    EXPECT_NE(b["database_name"], parent["database_name"]);
    EXPECT_NE(b["password"], parent["password"]);
    EXPECT_EQ(as_project(b["database_url"], "SELECT current_user"), b["username"].get<std::string>());
    EXPECT_EQ(orders_in(b["database_url"]), "1,2");
    // Its own copy: a write in the branch leaves the project alone.
    ASSERT_EQ(as_project(b["database_url"], "INSERT INTO orders VALUES (3)"), "");
    EXPECT_EQ(orders_in(parent["database_url"]), "1,2");
    // Idempotent: the same branch again, whatever source the second call names.
    const nlohmann::json again = json_of(as_admin({"--json", "branch", "cli-br", "team-cli", "pr-1", "--source", "empty"}));
    EXPECT_EQ(again["created"], false);
    EXPECT_TRUE(again["password"] == b["password"] && again["database_url"] == b["database_url"]);
    EXPECT_EQ(orders_in(b["database_url"]), "1,2,3");
}
TEST_F(WithServer, ABranchPrintsItsConnectionInfoMasked) {
    project_with_orders("cli-br-human", "(1)");
    CliRun r = as_admin({"branch", "cli-br-human", "team-cli", "preview"});
    ASSERT_EQ(r.code, 0) << r.err;
    const nlohmann::json b = json_of(as_admin({"--json", "branch", "cli-br-human", "team-cli", "preview"}));
    EXPECT_EQ(r.out.rfind("project_id     cli-br-human~preview\n", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("password       ********\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("database_url   postgresql://" + b["username"].get<std::string>() + ":********@"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("created        true\n"), std::string::npos) << r.out;
    expect_masked(r, b["password"]);
    expect_no_secret(r, b["password"]);
}
TEST_F(WithServer, ABranchFromEmptyHasNoneOfTheProjectsTables) {
    project_with_orders("cli-br-empty", "(1)");
    const nlohmann::json b = json_of(as_admin({"--json", "branch", "cli-br-empty", "team-cli", "blank", "--source", "empty"}));
    EXPECT_EQ(as_project(b["database_url"], "SELECT current_user"), b["username"].get<std::string>());
    EXPECT_EQ(as_project(b["database_url"], "SELECT to_regclass('public.orders') IS NULL"), "t");
}
TEST_F(WithServer, ABranchFromASnapshotSeesTheDataAsItWasThen) {
    const nlohmann::json p = project_with_orders("cli-br-snap", "(1)");
    const std::string id = json_of(as_admin({"--json", "snapshot", "cli-br-snap", "team-cli"}))["snapshot_id"];
    ASSERT_EQ(as_project(p["database_url"], "INSERT INTO orders VALUES (2)"), "");
    const nlohmann::json b = json_of(as_admin({"--json", "branch", "cli-br-snap", "team-cli", "then", "--source", id}));
    EXPECT_EQ(as_project(b["database_url"], "SELECT current_user"), b["username"].get<std::string>());
    EXPECT_EQ(orders_in(b["database_url"]), "1");
    EXPECT_EQ(orders_in(p["database_url"]), "1,2") << "the project is left as it is";
}
TEST_F(WithServer, ABranchsUrlLogsInToNoOtherDatabaseAndTheProjectsToNotTheBranchs) {
    const nlohmann::json p = project_with_orders("cli-br-fence", "(1)");
    const nlohmann::json b = json_of(as_admin({"--json", "branch", "cli-br-fence", "team-cli", "fenced"}));
    auto with_database = [](std::string url, const std::string& database) {
        return url.replace(url.rfind('/') + 1, std::string::npos, database);
    };
    for (const std::string other : {p["database_name"].get<std::string>(), std::string("meta"), std::string("postgres")}) {
        const std::string refused = as_project(with_database(b["database_url"], other), "SELECT 1");
        EXPECT_EQ(refused.rfind("(failed)", 0), 0u) << "the branch's role entered " << other;
        EXPECT_EQ(refused.find(b["password"].get<std::string>()), std::string::npos);
    }
    EXPECT_EQ(as_project(with_database(p["database_url"], b["database_name"]), "SELECT 1").rfind("(failed)", 0), 0u)
        << "the project's role entered its branch's database";
}
TEST_F(WithServer, ABranchKeepsTheExpiryItWasGivenInUtc) {
    project_with_orders("cli-br-exp", "(1)");
    CliRun r = as_admin({"branch", "cli-br-exp", "team-cli", "short", "--expires-at", "2031-01-02T05:04:05.25+02:00"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(as_superuser("SELECT expires_at AT TIME ZONE 'UTC' FROM claudable.databases WHERE project_id = 'cli-br-exp~short'"),
              "2031-01-02 03:04:05.25");
}
TEST_F(WithServer, AWrongOwnerIsRefusedWithExit4ByEveryNewCommandAndNothingChanges) {
    const nlohmann::json p = project_with_orders("cli-own", "(1)");
    const std::string id = json_of(as_admin({"--json", "snapshot", "cli-own", "team-cli"}))["snapshot_id"];
    const nlohmann::json before = json_of(as_admin({"--json", "snapshots", "cli-own", "team-cli"}));
    const std::vector<std::vector<std::string>> calls = {
        {"snapshot", "cli-own", "intruder"},          {"snapshots", "cli-own", "intruder"},
        {"restore", "cli-own", "intruder", id},       {"drop-snapshot", "cli-own", "intruder", id},
        {"branch", "cli-own", "intruder", "stolen"},  {"branch", "cli-own", "intruder", "stolen", "--source", id}};
    for (const auto& call : calls) {
        CliRun r = as_admin(call);
        EXPECT_EQ(r.code, 4) << call[0] << ": " << r.err;
        EXPECT_NE(r.err.find("42501"), std::string::npos) << call[0] << ": " << r.err;
        EXPECT_EQ(r.out, "") << call[0];
        expect_no_secret(r, p["password"]);
    }
    EXPECT_EQ(json_of(as_admin({"--json", "snapshots", "cli-own", "team-cli"})), before) << "no snapshot made or dropped";
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.projects WHERE project_id LIKE 'cli-own~%'"), "0") << "no branch";
    EXPECT_EQ(json_of(as_admin({"--json", "provision", "cli-own", "team-cli"}))["password"], p["password"]);
}
TEST_F(WithServer, ABadBranchIdExitsWith3AndCreatesNothing) {
    project_with_orders("cli-badbr", "(1)");
    for (const std::string bad : {std::string("bad id!"), std::string("-lead"), std::string("a~b"), std::string(64, 'a'),
                                  std::string(""), std::string("x\nSET ROLE postgres"), std::string("../../x")}) {
        CliRun r = as_admin({"branch", "cli-badbr", "team-cli", "--", bad});  // after --: "-lead" is no option
        EXPECT_EQ(r.code, 3) << "[" << bad << "]: " << r.err;
        EXPECT_NE(r.err.find("22023"), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "");
        expect_no_secret(r);
    }
    EXPECT_EQ(as_admin({"branch", "cli-badbr", "team-cli", "ok", "--source", "snap-nothex00000"}).code, 3)
        << "a source that is neither current, empty nor a snapshot id";
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.projects WHERE project_id LIKE 'cli-badbr~%'"), "0");
}
TEST_F(WithServer, ABranchOfABranchExitsWith3) {
    project_with_orders("cli-br-deep", "(1)");
    ASSERT_EQ(as_admin({"branch", "cli-br-deep", "team-cli", "one"}).code, 0);
    CliRun r = as_admin({"branch", "cli-br-deep~one", "team-cli", "two"});
    EXPECT_EQ(r.code, 3) << r.err;
    EXPECT_NE(r.err.find("0A000"), std::string::npos) << r.err;
    expect_no_secret(r);
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.projects WHERE project_id LIKE 'cli-br-deep~one~%'"), "0");
}
TEST_F(WithServer, AnotherProjectsSnapshotIsRefusedAndChangesNothing) {
    const nlohmann::json mine = project_with_orders("cli-mine", "(1)");
    project_with_orders("cli-theirs", "(7)");
    const std::string theirs = json_of(as_admin({"--json", "snapshot", "cli-theirs", "team-cli"}))["snapshot_id"];
    CliRun restore = as_admin({"restore", "cli-mine", "team-cli", theirs});
    EXPECT_EQ(restore.code, 1) << restore.err;
    EXPECT_NE(restore.err.find("P0002"), std::string::npos) << restore.err;
    EXPECT_EQ(orders_in(mine["database_url"]), "1");
    CliRun branch = as_admin({"branch", "cli-mine", "team-cli", "theirs", "--source", theirs});
    EXPECT_EQ(branch.code, 1) << branch.err;
    EXPECT_NE(branch.err.find("P0002"), std::string::npos) << branch.err;
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.projects WHERE project_id = 'cli-mine~theirs'"), "0");
    EXPECT_EQ(json_of(as_admin({"--json", "drop-snapshot", "cli-mine", "team-cli", theirs}))["dropped"], false);
    EXPECT_EQ(json_of(as_admin({"--json", "snapshots", "cli-theirs", "team-cli"})).size(), 1u) << "theirs is still there";
    for (const CliRun* r : {&restore, &branch}) expect_no_secret(*r, mine["password"]);
}

namespace {
// How many snapshots `project` has (labelled `label` when given), once the worker of a call
// whose connection was lost had time to finish alone.
std::string snapshots_made(const std::string& project, const std::string& label = {}) {
    const std::string sql = "SELECT count(*) FROM claudable_snapshots('" + project + "', 'team-cli')" +
                            (label.empty() ? std::string() : " WHERE label = '" + label + "'");
    std::string count;
    for (int i = 0; i < 100 && (count = as_superuser(sql)) == "0"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return count;
}
}  // namespace

TEST_F(WithServer, ASnapshotWhoseConnectionIsLostIsReportedAsUnknownAndNotResent) {
    project_with_orders("cli-lost-snap", "(1)");
    CliRun r = run_and_lose_the_connection({"--retry-seconds", "30", "snapshot", "cli-lost-snap", "team-cli"},
                                           "claudable.projects WHERE project_id = 'cli-lost-snap'");
    EXPECT_EQ(r.code, 7) << r.err;
    EXPECT_NE(r.err.find("may or may not have taken effect"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("retrying"), std::string::npos) << "a snapshot is never re-sent: " << r.err;
    expect_no_secret(r);
    EXPECT_EQ(snapshots_made("cli-lost-snap"), "1") << "the server made exactly one snapshot";
}
TEST_F(WithServer, ARestoreWhoseConnectionIsLostIsReportedAsUnknownAndNotResent) {
    project_with_orders("cli-lost-restore", "(1)");
    const std::string id = json_of(as_admin({"--json", "snapshot", "cli-lost-restore", "team-cli"}))["snapshot_id"];
    CliRun r = run_and_lose_the_connection({"--retry-seconds", "30", "restore", "cli-lost-restore", "team-cli", id},
                                           "claudable.projects WHERE project_id = 'cli-lost-restore'");
    EXPECT_EQ(r.code, 7) << r.err;
    EXPECT_NE(r.err.find("may or may not have taken effect"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("retrying"), std::string::npos) << "a restore is never re-sent: " << r.err;
    expect_no_secret(r);
    EXPECT_EQ(snapshots_made("cli-lost-restore", "before restore of " + id), "1")
        << "the server restored exactly once (one before-restore snapshot)";
}

namespace {
// README's pooler role (made by its grant block, with a password, over TCP): CLAUDABLE_TEST_POOLER_URL.
std::string pooler_url() { return std::getenv("CLAUDABLE_TEST_POOLER_URL") ? std::getenv("CLAUDABLE_TEST_POOLER_URL") : ""; }

// A verifier PostgreSQL accepts from ALTER ROLE ... PASSWORD (keys of 32 bytes, a salt of any
// length) and PgBouncer's auth file cannot take: a salt of 240 base64 characters.
std::string repeated(const std::string& text, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) out += text;
    return out;
}
const std::string tenant_salt = repeated("dGVuYW50", 30);  // "tenant" x 30, base64
const std::string tenant_verifier = "SCRAM-SHA-256$4096:" + tenant_salt +
                                    "$c3RvcmVkLWtleS1vZi10aGUtdGVuYW50LTMyYnl0ZXM=:c2VydmVyLWtleS1vZi10aGUtdGVuYW50LTMyYnl0ZXM=";

// What the pooler's role sees of `sql` (psql over TCP with its URL), or "(failed)".
std::string as_pooler(const std::string& sql) {
    std::filesystem::create_directories(scratch);
    const std::string out = (scratch / "pooler.out").string();
    if (std::system(("psql " + quote(pooler_url()) + " -X -q -At -c " + quote(sql) + " >" + out + " 2>/dev/null").c_str()) != 0)
        return "(failed)";
    std::string text = slurp(out);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

class PoolerConfig : public WithServer {
protected:
    void SetUp() override {
        WithServer::SetUp();
        ASSERT_FALSE(pooler_url().empty()) << "CLAUDABLE_TEST_POOLER_URL is not set: run test/client/client_suite.sh";
    }
    // `claudable pgbouncer-config` as the pooler's role (with `url`, by default its own), into
    // a fresh directory `out`.
    CliRun write_config(const std::string& name, std::vector<std::string> extra = {}, std::string url = {}) {
        out = scratch / name;
        std::filesystem::remove_all(out);
        std::vector<std::string> args = {"--admin-url", url.empty() ? pooler_url() : url, "pgbouncer-config",
                                         "--out", out.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return claudable(args);
    }
    std::string databases_file() const { return slurp((out / "pgbouncer-databases.ini").string()); }
    std::string auth_file() const { return slurp((out / "userlist.txt").string()); }
    // No verifier, password or URL on either stream.
    void expect_nothing_secret(const CliRun& r) {
        const std::string pooler_password = password_in(pooler_url());
        for (const std::string* stream : {&r.out, &r.err}) {
            EXPECT_EQ(stream->find("dGVuYW50"), std::string::npos) << "the tenant's verifier is shown";
            EXPECT_EQ(stream->find("SCRAM-SHA-256$"), std::string::npos) << "a verifier is shown";
            EXPECT_TRUE(!pooler_password.empty() && stream->find(pooler_password) == std::string::npos)
                << "the pooler's password is shown";
            EXPECT_EQ(stream->find("postgresql://"), std::string::npos) << "a URL is shown";
        }
        expect_no_secret(r);
    }
    std::filesystem::path out;
};

// Two projects, and a tenant that logged in with its own DATABASE_URL and, with its own rights
// only, set that verifier on its own role. Once per test program; "" when it is in place,
// else what went wrong.
const std::string& tenant_with_an_unusable_verifier() {
    static const std::string failure = [] () -> std::string {
        for (const char* project : {"cli-pgb-one", "cli-pgb-two", "cli-pgb-tenant"})
            if (as_admin({"provision", project, "team-pgb"}).code != 0) return std::string("cannot provision ") + project;
        const std::string sql = "ALTER ROLE app_u_cli_pgb_tenant PASSWORD '" + tenant_verifier + "'";
        CliRun tenant = as_admin({"exec", "cli-pgb-tenant", "team-pgb", "--", "sh", "-c",
                                  "psql \"$DATABASE_URL\" -X -q -v ON_ERROR_STOP=1 -c \"$1\"", "sh", sql});
        if (tenant.code != 0) return "PostgreSQL refused the tenant's ALTER ROLE: " + tenant.err;
        if (as_superuser("SELECT rolpassword = '" + tenant_verifier +
                         "' FROM pg_authid WHERE rolname = 'app_u_cli_pgb_tenant'") != "t")
            return "the role does not hold the verifier as the tenant gave it";
        return "";
    }();
    return failure;
}

// A stand-in for a server whose export returns an entry PgBouncer cannot use (claudable
// 0.6.0 returned a tenant's own verifier, as the test above sets it), made by the DBA in a
// database of its own: two usable entries and the tenant's, each with its project_id (read
// by name, as from a server that returns one). Once per test program; "" when it is in
// place, else what went wrong. Its URL is the pooler's, on that database.
const std::string& stand_in_server() {
    static const std::string failure = [] () -> std::string {
        const char* psql = std::getenv("CLAUDABLE_TEST_SUPERUSER_PSQL");
        if (psql == nullptr) return "CLAUDABLE_TEST_SUPERUSER_PSQL is not set";
        const std::string usable = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy";
        const std::string sql =
            "CREATE FUNCTION public.claudable_pooler_entries() RETURNS TABLE (database_name text, username text,"
            " host text, port integer, scram_verifier text, project_id text) LANGUAGE sql AS $f$ VALUES"
            " ('app_db_stand_in_a', 'app_u_stand_in_a', '127.0.0.1', 5432, '" + usable + "', 'stand-in-a'),"
            " ('app_db_stand_in_tenant', 'app_u_stand_in_tenant', '127.0.0.1', 5432, '" + tenant_verifier +
            "', 'stand-in-tenant'),"
            " ('app_db_stand_in_b', 'app_u_stand_in_b', '127.0.0.1', 5432, '" + usable + "', 'stand-in-b') $f$;"
            " REVOKE ALL ON FUNCTION public.claudable_pooler_entries() FROM PUBLIC;"
            " GRANT EXECUTE ON FUNCTION public.claudable_pooler_entries() TO claudable_pooler;";
        if (as_superuser("CREATE DATABASE pooler_stand_in") != "" ||
            as_superuser("GRANT CONNECT ON DATABASE pooler_stand_in TO claudable_pooler") != "")
            return "cannot make the stand-in database";
        std::string in_stand_in = std::string(psql) + " -d pooler_stand_in";  // psql takes the last -d
        if (std::system((in_stand_in + " -v ON_ERROR_STOP=1 -c " + quote(sql) + " >/dev/null 2>&1").c_str()) != 0)
            return "cannot make the stand-in's claudable_pooler_entries()";
        return "";
    }();
    return failure;
}
std::string stand_in_url() {
    std::string url = pooler_url();
    return url.substr(0, url.rfind('/') + 1) + "pooler_stand_in";
}
}  // namespace

// The real server, with a tenant that set its own verifier: whatever the server's export does
// with it, every other project is written and that verifier reaches no file. A server that
// returns it gets it skipped and named (exit 8); one that leaves it out (claudable since
// issue 19) gets a clean run (exit 0).
TEST_F(PoolerConfig, ATenantsOwnVerifierNeverKeepsTheOtherProjectsOut) {
    ASSERT_EQ(tenant_with_an_unusable_verifier(), "");
    const std::string exported =
        as_pooler("SELECT count(*) FROM claudable_pooler_entries() WHERE username = 'app_u_cli_pgb_tenant'");
    ASSERT_TRUE(exported == "0" || exported == "1") << exported;
    CliRun r = write_config("pgb-tenant");
    const std::string databases = databases_file(), users = auth_file();
    EXPECT_NE(databases.find("\napp_db_cli_pgb_one = host="), std::string::npos);
    EXPECT_NE(databases.find("\napp_db_cli_pgb_two = host="), std::string::npos);
    EXPECT_EQ(databases.find("app_db_cli_pgb_tenant"), std::string::npos) << "the tenant's entry is left out";
    EXPECT_EQ(users.find("app_u_cli_pgb_tenant"), std::string::npos) << "and so is its role";
    EXPECT_EQ(users.find("dGVuYW50"), std::string::npos) << "and its verifier";
    // Every ready project but the tenant's: one entry line and one role line each.
    const std::string others = as_superuser("SELECT count(*) - 1 FROM claudable.projects WHERE status = 'ready'");
    EXPECT_EQ(std::to_string(std::count(databases.begin(), databases.end(), '\n') - 3), others);
    EXPECT_EQ(std::to_string(std::count(users.begin(), users.end(), '\n')), others);
    if (exported == "1") {
        EXPECT_EQ(r.code, 8) << r.err;
        EXPECT_NE(r.err.find("skipped database \"app_db_cli_pgb_tenant\""), std::string::npos) << r.err;
    } else {
        EXPECT_EQ(r.code, 0) << r.err;
        EXPECT_EQ(r.err, "") << "nothing was skipped";
    }
    expect_nothing_secret(r);
}

TEST_F(PoolerConfig, AnUnusableEntryIsSkippedEveryOtherOneWrittenAndTheExitCodeIs8) {
    ASSERT_EQ(stand_in_server(), "");
    CliRun r = write_config("pgb-stand-in", {}, stand_in_url());
    EXPECT_EQ(r.code, 8) << r.err;
    const std::string databases = databases_file(), users = auth_file();
    EXPECT_NE(databases.find("\napp_db_stand_in_a = host=127.0.0.1 port=5432 dbname=app_db_stand_in_a"), std::string::npos)
        << databases;
    EXPECT_NE(databases.find("\napp_db_stand_in_b = host=127.0.0.1 port=5432 dbname=app_db_stand_in_b"), std::string::npos)
        << databases;
    EXPECT_EQ(databases.find("app_db_stand_in_tenant"), std::string::npos);
    EXPECT_EQ(users, "\"app_u_stand_in_a\" \"SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy\"\n"
                     "\"app_u_stand_in_b\" \"SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy\"\n");
    EXPECT_EQ(r.out.rfind("wrote 2 database entries (1 server) to ", 0), 0u) << r.out;
}
TEST_F(PoolerConfig, TheSkippedEntryIsNamedOnStderrWithItsReasonAndNotItsVerifier) {
    ASSERT_EQ(stand_in_server(), "");
    CliRun r = write_config("pgb-stand-in-stderr", {}, stand_in_url());
    EXPECT_EQ(r.err,
              "claudable: pgbouncer-config skipped database \"app_db_stand_in_tenant\" (project \"stand-in-tenant\"): "
              "it has no SCRAM-SHA-256 verifier PgBouncer can use; its pooled URL does not work until it is fixed\n"
              "claudable: pgbouncer-config skipped 1 of 3 entries and wrote the other 2 (exit code 8)\n");
    expect_nothing_secret(r);
}
TEST_F(PoolerConfig, JsonListsTheWrittenAndTheSkippedEntries) {
    ASSERT_EQ(stand_in_server(), "");
    CliRun r = write_config("pgb-stand-in-json", {"--json"}, stand_in_url());
    EXPECT_EQ(r.code, 8) << r.err;
    const nlohmann::json j = json_of(r);
    EXPECT_EQ(j["skipped"], nlohmann::json::parse(R"([{"database": "app_db_stand_in_tenant", "project_id": "stand-in-tenant",
                                                       "server": null, "reason": "no SCRAM-SHA-256 verifier PgBouncer can use"}])"));
    EXPECT_EQ(j["written"], nlohmann::json::parse(R"([{"database": "app_db_stand_in_a", "project_id": "stand-in-a", "server": null},
                                                       {"database": "app_db_stand_in_b", "project_id": "stand-in-b", "server": null}])"));
    EXPECT_EQ(j["databases"], 2);
    expect_nothing_secret(r);
}

// `claudable pooler-sync` against the single server of the suite, as README's pooler role: the
// same entries as pgbouncer-config, each naming PgBouncer's auth_user, and no verifier anywhere.
TEST_F(PoolerConfig, PoolerSyncOnceWritesEachEntryWithTheAuthUserAndNoVerifier) {
    ASSERT_EQ(as_admin({"provision", "cli-sync-one", "team-sync"}).code, 0);
    out = scratch / "sync-once";
    std::filesystem::remove_all(out);
    CliRun r = claudable({"--admin-url", pooler_url(), "pooler-sync", "--once", "--out", out.string(), "--auth-user",
                          "claudable_pgbouncer"});
    EXPECT_EQ(r.code, 0) << r.err;
    const std::string databases = databases_file();
    EXPECT_NE(databases.find("\napp_db_cli_sync_one = host="), std::string::npos) << databases;
    EXPECT_NE(databases.find(" dbname=app_db_cli_sync_one auth_user=claudable_pgbouncer pool_mode=transaction\n"),
              std::string::npos)
        << databases;
    EXPECT_EQ(databases.find("SCRAM-SHA-256"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(out / "userlist.txt")) << "no auth file of verifiers with an auth_user";
    // As many entries as pgbouncer-config writes, every line naming the auth_user.
    CliRun config = write_config("sync-once-config");
    const std::string reference = databases_file();
    EXPECT_EQ(std::count(reference.begin(), reference.end(), '\n'), std::count(databases.begin(), databases.end(), '\n'));
    out = scratch / "sync-once";
    std::istringstream lines(databases);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("app_db_", 0) == 0) EXPECT_NE(line.find(" auth_user=claudable_pgbouncer "), std::string::npos) << line;
    EXPECT_EQ(r.out.rfind("wrote ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("RELOAD PgBouncer to use them"), std::string::npos) << "no admin console was given: " << r.out;
    expect_nothing_secret(r);
}
// The stand-in server returns a tenant's verifier PgBouncer could not use: with an auth_user the
// verifier is never looked at (PgBouncer asks the server's lookup, which refuses such a role), so
// the entry is written; without one it is skipped, as pgbouncer-config skips it (exit 8).
TEST_F(PoolerConfig, PoolerSyncWithAnAuthUserNeverReadsVerifiersAndWithoutOneSkipsAsPgbouncerConfigDoes) {
    ASSERT_EQ(stand_in_server(), "");
    out = scratch / "sync-stand-in";
    std::filesystem::remove_all(out);
    CliRun r = claudable({"--admin-url", stand_in_url(), "--json", "pooler-sync", "--once", "--out", out.string(),
                          "--auth-user", "claudable_pgbouncer"});
    EXPECT_EQ(r.code, 0) << r.err;
    const nlohmann::json j = json_of(r);
    EXPECT_EQ(j["databases"], 3);
    EXPECT_EQ(j["skipped"], nlohmann::json::array());
    EXPECT_EQ(j["changed"], true);
    EXPECT_EQ(j["reloaded"], false);
    EXPECT_NE(databases_file().find("app_db_stand_in_tenant = host=127.0.0.1 port=5432 dbname=app_db_stand_in_tenant "
                                    "auth_user=claudable_pgbouncer"),
              std::string::npos);
    expect_nothing_secret(r);

    out = scratch / "sync-stand-in-userlist";
    std::filesystem::remove_all(out);
    CliRun plain = claudable({"--admin-url", stand_in_url(), "pooler-sync", "--once", "--out", out.string()});
    EXPECT_EQ(plain.code, 8) << plain.err;
    EXPECT_NE(plain.err.find("skipped database \"app_db_stand_in_tenant\" (project \"stand-in-tenant\"): it has no "
                             "SCRAM-SHA-256 verifier PgBouncer can use"),
              std::string::npos)
        << plain.err;
    EXPECT_EQ(auth_file(), "\"app_u_stand_in_a\" \"SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy\"\n"
                           "\"app_u_stand_in_b\" \"SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy\"\n");
    expect_nothing_secret(plain);
}
// Long-running: syncs at start and at its interval (a single server notifies nothing), logs one
// line per change (counts only), and SIGTERM stops it with exit code 0.
TEST_F(PoolerConfig, PoolerSyncRunsUntilSigtermAndPicksUpANewProjectAtItsInterval) {
    out = scratch / "sync-running";
    std::filesystem::remove_all(out);
    const std::string err = (scratch / "sync-running.err").string(), code = (scratch / "sync-running.code").string();
    const std::string run = quote(CLAUDABLE_CLI) + " --admin-url " + quote(pooler_url()) + " pooler-sync --out " +
                            quote(out.string()) + " --auth-user claudable_pgbouncer --interval-seconds 0.3 2>" + err +
                            " & pid=$!; sleep 1; " + quote(CLAUDABLE_CLI) + " --admin-url " + quote(admin_url()) +
                            " provision cli-sync-later team-sync >/dev/null; sleep 1.5; kill -TERM $pid; wait $pid; "
                            "echo $? >" + code;
    ASSERT_EQ(std::system(("sh -c " + quote(run)).c_str()), 0);
    EXPECT_EQ(slurp(code), "0\n");
    const std::string log = slurp(err);
    EXPECT_NE(log.find("claudable pooler-sync: listening on channel claudable_pooler\n"), std::string::npos) << log;
    EXPECT_NE(log.find(" server), at start, 0 skipped: wrote "), std::string::npos) << log;
    EXPECT_NE(log.find(" server), +1 -0, 0 skipped: wrote "), std::string::npos) << "the new project at the interval: " << log;
    EXPECT_NE(log.find("claudable pooler-sync: stopped\n"), std::string::npos) << log;
    EXPECT_NE(databases_file().find("\napp_db_cli_sync_later = host="), std::string::npos);
    EXPECT_EQ(log.find(password_in(pooler_url())), std::string::npos) << "the log holds the pooler's password";
    EXPECT_EQ(log.find("postgresql://"), std::string::npos) << "the log holds a URL";
    EXPECT_EQ(log.find("SCRAM-SHA-256$"), std::string::npos);
}
// A login the server refuses before the first sync is a misconfiguration no retry mends: it
// exits at once with the code of the fault (1), without showing the password.
TEST_F(PoolerConfig, PoolerSyncWhoseLoginIsRefusedExitsAtOnce) {
    std::string wrong = pooler_url();
    wrong.replace(wrong.find(password_in(wrong)), password_in(wrong).size(), "not-the-password");
    out = scratch / "sync-refused";
    const auto started = std::chrono::steady_clock::now();
    CliRun r = claudable({"--admin-url", wrong, "pooler-sync", "--out", out.string()});
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    EXPECT_NE(r.err.find("the server refused the admin login"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("not-the-password"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(out / "pgbouncer-databases.ini"));
}
