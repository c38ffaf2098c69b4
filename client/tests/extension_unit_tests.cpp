// Unit tests of the extension's pure C++ modules (no PostgreSQL needed): the naming and
// input rules, the sealing of passwords, the key file, and the quoting of identifiers.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include "rules/connection_url.hpp"
#include "rules/failure.hpp"
#include "rules/project_names.hpp"
#include "crypto/secret_box.hpp"
#include "rules/sql_text.hpp"

using namespace claudable;

namespace {
std::string sqlstate_of_validation(const std::string* value) {
    try {
        validate_identifier("project_id", value);
    } catch (const Failure& f) {
        return f.sqlstate() + ": " + f.report().message;
    }
    return "ok";
}
// "SQLSTATE: message" of the Failure `action` throws, or "no failure".
template <typename Action>
std::string failure_of(Action action) {
    try {
        action();
    } catch (const Failure& f) {
        return f.sqlstate() + ": " + f.report().message;
    }
    return "no failure";
}
std::string sha256_hex8(const std::string& text) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d);
    char hex[9];
    snprintf(hex, sizeof hex, "%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
    return hex;
}
}  // namespace

TEST(ValidateIdentifier, AcceptsLettersDigitsUnderscoreAndDash) {
    const std::string ok = "Shop_1-a";
    EXPECT_EQ(sqlstate_of_validation(&ok), "ok");
}
TEST(ValidateIdentifier, RefusesNullWith22023) {
    EXPECT_EQ(sqlstate_of_validation(nullptr), "22023: project_id must not be NULL");
}
TEST(ValidateIdentifier, RefusesEmptyAndTooLong) {
    const std::string empty, longest(128, 'a'), too_long(129, 'a');
    EXPECT_EQ(sqlstate_of_validation(&empty), "22023: invalid project_id: length must be 1 to 128 characters");
    EXPECT_EQ(sqlstate_of_validation(&longest), "ok");
    EXPECT_EQ(sqlstate_of_validation(&too_long), "22023: invalid project_id: length must be 1 to 128 characters");
}
TEST(ValidateIdentifier, RefusesALeadingDashOrUnderscore) {
    for (std::string bad : std::initializer_list<std::string>{"-a", "_a"})
        EXPECT_EQ(sqlstate_of_validation(&bad), "22023: invalid project_id: must start with a letter or digit") << bad;
}
TEST(ValidateIdentifier, RefusesEverythingOutsideTheAlphabet) {
    for (std::string bad : std::initializer_list<std::string>{"a b", "a'b", "a\"b", "a.b", "a\nb", "caf\xc3\xa9", std::string("a\0b", 3)})
        EXPECT_EQ(sqlstate_of_validation(&bad), "22023: invalid project_id: only A-Z, a-z, 0-9, '_' and '-' are allowed")
            << bad;
}
TEST(ValidateIdentifier, NeverEchoesTheValue) {
    const std::string bad = "secret value";
    EXPECT_EQ(sqlstate_of_validation(&bad).find("secret"), std::string::npos);
}

TEST(ProjectNames, LowerCaseAndDashToUnderscore) {
    EXPECT_EQ(names_for("My-Shop").database_name, "app_db_my_shop");
    EXPECT_EQ(names_for("My-Shop").username, "app_u_my_shop");
}
TEST(ProjectNames, A56CharacterSlugIsKept) {
    const std::string id(56, 'x');
    EXPECT_EQ(names_for(id).database_name, "app_db_" + id);
    EXPECT_EQ(names_for(id).database_name.size(), 63u);
}
TEST(ProjectNames, ALongerSlugIsCutAndSuffixedWithAHashOfTheId) {
    const std::string id = "L" + std::string(127, 'o');
    EXPECT_EQ(names_for(id).database_name, "app_db_l" + std::string(46, 'o') + "_" + sha256_hex8(id));
    EXPECT_EQ(names_for(id).database_name.size(), 63u);
    EXPECT_NE(names_for(id).database_name, names_for("L" + std::string(126, 'o') + "p").database_name);
}

TEST(SecretBox, OpensWhatItSealed) {
    SecretKey key;
    for (std::size_t i = 0; i < SecretKey::size; ++i) key.data()[i] = static_cast<unsigned char>(i);
    const std::string box = seal(key, "the password", "project-1");
    EXPECT_EQ(box.size(), 1 + 12 + std::string("the password").size() + 16);
    EXPECT_EQ(box.find("the password"), std::string::npos);
    EXPECT_EQ(open_sealed(key, box, "project-1"), "the password");
}
TEST(SecretBox, SealingTwiceGivesDifferentBoxes) {
    SecretKey key;
    EXPECT_NE(seal(key, "p", "x"), seal(key, "p", "x"));
}
TEST(SecretBox, RefusesABoxOfAnotherProject) {
    SecretKey key;
    const std::string box = seal(key, "p", "project-1");
    EXPECT_EQ(failure_of([&] { open_sealed(key, box, "project-2"); }),
              "XX001: claudable: stored password could not be decrypted");
}
TEST(SecretBox, RefusesATamperedBoxOrAnotherKey) {
    SecretKey key, other;
    other.data()[0] = 1;
    std::string box = seal(key, "password", "p");
    EXPECT_EQ(failure_of([&] { open_sealed(other, box, "p"); }), "XX001: claudable: stored password could not be decrypted");
    box[14] ^= 1;
    EXPECT_EQ(failure_of([&] { open_sealed(key, box, "p"); }), "XX001: claudable: stored password could not be decrypted");
}

namespace {
std::filesystem::path fresh_directory(const char* name) {
    const auto dir = std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}
std::string raw(const SecretKey& key) { return std::string(reinterpret_cast<const char*>(key.data()), SecretKey::size); }
}  // namespace

TEST(KeyFile, IsWrittenWithMode0600AndReadBackTheSame) {
    const auto dir = fresh_directory("claudable-key");
    const std::string path = (dir / "claudable.key").string();
    SecretKey written, read;
    generate_key(written);
    write_key_file(path, written, false);
    ASSERT_TRUE(read_key_file(path, read));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(raw(written), raw(read));
    std::filesystem::permissions(path, std::filesystem::perms::others_read, std::filesystem::perm_options::add);
    SecretKey third;
    EXPECT_EQ(failure_of([&] { read_key_file(path, third); }),
              "F0000: claudable: key file \"" + path + "\" has group or world access")
        << "a key file readable by others is refused";
    std::filesystem::remove_all(dir);
}
TEST(KeyFile, IsNeverOverwrittenUnlessAskedTo) {
    const auto dir = fresh_directory("claudable-key-keep");
    const std::string path = (dir / "claudable.key").string();
    SecretKey first, second, read;
    generate_key(first);
    generate_key(second);
    write_key_file(path, first, false);
    EXPECT_EQ(failure_of([&] { write_key_file(path, second, false); }),
              "F0000: claudable: will not overwrite key file \"" + path + "\": File exists")
        << "a second writer loses, the first key stays";
    ASSERT_TRUE(read_key_file(path, read));
    EXPECT_EQ(raw(read), raw(first));
    write_key_file(path, second, true);
    ASSERT_TRUE(read_key_file(path, read));
    EXPECT_EQ(raw(read), raw(second));
    std::filesystem::remove_all(dir);
}
TEST(KeyFile, AMissingFileIsReportedNotCreated) {
    const auto dir = fresh_directory("claudable-key-missing");
    SecretKey key;
    EXPECT_FALSE(read_key_file((dir / "claudable.key").string(), key));
    EXPECT_FALSE(std::filesystem::exists(dir / "claudable.key"));
    std::filesystem::remove_all(dir);
}
TEST(KeyFile, RefusesASymlinkAndAFifo) {
    const auto dir = fresh_directory("claudable-key-odd");
    SecretKey key;
    generate_key(key);
    write_key_file((dir / "real.key").string(), key, false);
    std::filesystem::create_symlink(dir / "real.key", dir / "link.key");
    const std::string link = (dir / "link.key").string(), fifo = (dir / "fifo.key").string();
    EXPECT_EQ(failure_of([&] { read_key_file(link, key); }),
              "F0000: claudable: cannot open key file \"" + link + "\": Too many levels of symbolic links");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(failure_of([&] { read_key_file(fifo, key); }), "F0000: claudable: key file \"" + fifo + "\" is not a regular file")
        << "and does not block on a FIFO";
    std::filesystem::remove_all(dir);
}
TEST(KeyFile, RefusesAMalformedFile) {
    const auto dir = fresh_directory("claudable-badkey");
    const std::string path = (dir / "claudable.key").string();
    { std::ofstream(path) << "not hex at all\n"; }
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    SecretKey key;
    EXPECT_EQ(failure_of([&] { read_key_file(path, key); }),
              "F0000: claudable: key file \"" + path + "\" is not 64 hexadecimal characters");
    std::filesystem::remove_all(dir);
}
TEST(KeyFingerprint, IsTheFirstHalfOfAnHmacOfAConstantAndDiffersBetweenKeys) {
    SecretKey known, a, b;
    for (std::size_t i = 0; i < SecretKey::size; ++i) known.data()[i] = static_cast<unsigned char>(i);
    // HMAC-SHA-256("claudable key fingerprint v1") under the key 00 01 .. 1f, first 16 bytes
    // (computed outside this code, with Python's hmac module).
    EXPECT_EQ(key_fingerprint(known), "f8ab214f519e9ece3e86361c3731c2fd");
    generate_key(a);
    generate_key(b);
    EXPECT_EQ(key_fingerprint(a).size(), 32u);
    EXPECT_NE(key_fingerprint(a), key_fingerprint(b));
}

TEST(SqlText, QuotesEveryIdentifierAndDoublesQuotes) {
    EXPECT_EQ(quoted_identifier("app_u_x"), "\"app_u_x\"");
    EXPECT_EQ(quoted_identifier("a\"b"), "\"a\"\"b\"");
}
TEST(SqlText, QuotesLiteralsAndRefusesBackslashes) {
    EXPECT_EQ(quoted_literal("it's"), "'it''s'");
    EXPECT_EQ(failure_of([] { quoted_literal("a\\b"); }), "XX000: literal contains a backslash or NUL byte");
}

TEST(ValidHost, AcceptsNamesDottedQuadsAndIpv6Addresses) {
    const std::string label(63, 'a'), longest = label + "." + label + "." + label + "." + std::string(61, 'b');
    ASSERT_EQ(longest.size(), 253u);
    for (const std::string& host : std::vector<std::string>{"localhost", "db.internal", "db-1.example.com", "a_b.internal", "DB2.Internal",
                                   "127.0.0.1", "10.0.0.255", "::1", "fe80::1", "2001:db8::8a2e:370:7334",
                                   "::ffff:10.0.0.1", "1host.example", label, longest})
        EXPECT_TRUE(is_valid_host(host)) << host;
}
TEST(ValidHost, RefusesWhatAUrlCannotCarryOrResolversReadDifferently) {
    const std::string label(64, 'a'), too_long = std::string(63, 'a') + "." + std::string(63, 'a') + "." +
                                                  std::string(63, 'a') + "." + std::string(62, 'b');
    ASSERT_EQ(too_long.size(), 254u);
    for (const std::string& host :
         std::vector<std::string>{"", " ", "a b", "/var/run/postgresql", "db:5432", "db.example.com:5432", "a:5432", "1::2::3", ":::", "::1::",
          "12345::1", "1:2:3:4:5:6:7:8:9", "[::1]", "fe80::1%eth0", "user@db", "db/x", "db?x", "db#x", "db'x",
          "127.1", "2130706433", "0x7f.1", "0177.0.0.1", "999.2.3.4", "1.2.3.4.5", "_", "_a", "a_", "-a", "a-",
          "a..b", ".a", "a.", ".", "...", "caf\xc3\xa9.example", std::string("a\0b", 3), "a\nb", label, too_long})
        EXPECT_FALSE(is_valid_host(host)) << host;
}
