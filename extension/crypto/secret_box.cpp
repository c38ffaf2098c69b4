#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "crypto/secret_box.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "rules/failure.hpp"
#include "rules/unique_fd.hpp"

namespace claudable {
namespace {

constexpr unsigned char box_version = 1;
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;
constexpr std::size_t key_file_chars = SecretKey::size * 2;

[[noreturn]] void key_file_failure(const std::string& what, const std::string& path, int err) {
    fail(sqlstate::config_file_error, "claudable: " + what + " key file \"" + path + "\": " + std::strerror(err),
         {}, "Check claudable.key_file and the file's owner and permissions (it must be readable by the server only).");
}


std::string directory_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// A directory others may write to (its owner, if that is another user, or anyone through
// group or other write bits) lets them pre-create, replace or remove the key's file; one
// with the sticky bit owned by root or by the server's own user (/tmp) only lets them
// pre-create a name, which O_EXCL and link() refuse.
void refuse_shared_directory(const std::string& path) {
    const std::string directory = directory_of(path);
    struct stat st;
    if (::stat(directory.c_str(), &st) != 0) key_file_failure("cannot stat the directory of", path, errno);
    const bool owned = st.st_uid == 0 || st.st_uid == ::geteuid();
    const bool others_write = !owned || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
    const bool sticky_and_owned = (st.st_mode & S_ISVTX) != 0 && owned;
    if (others_write && !sticky_and_owned)
        fail(sqlstate::config_file_error,
             "claudable: will not write key file \"" + path + "\": its directory is writable by other users",
             "Another user could replace or remove the file there.",
             "Use a directory only the server's OS user can write to (mode 0700 or 0755), or one with the sticky bit.");
}

// A temporary name beside `path` that nobody can guess ahead of the call.
std::string temporary_name(const std::string& path) {
    unsigned char random[8];
    if (RAND_bytes(random, sizeof random) != 1) fail(sqlstate::internal_error, "claudable: could not generate a name");
    static constexpr char hex[] = "0123456789abcdef";
    std::string name = path + ".tmp.";
    for (unsigned char b : random) {
        name += hex[b >> 4];
        name += hex[b & 0x0f];
    }
    return name;
}

// A created or renamed file survives a crash only once its directory entry is on disk.
void fsync_directory_of(const std::string& path) {
    const std::string directory = directory_of(path);
    UniqueFd dir{::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (dir.fd < 0 || ::fsync(dir.fd) != 0) key_file_failure("cannot fsync the directory of", path, errno);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

struct CipherContext {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    ~CipherContext() { EVP_CIPHER_CTX_free(ctx); }
};

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Fetched once per process: OpenSSL 3 otherwise looks the cipher up in its providers on
// every EVP_aes_256_gcm() use, which showed on the warm path.
const EVP_CIPHER* aes_256_gcm() {
    static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (cipher == nullptr) fail(sqlstate::internal_error, "claudable: OpenSSL has no AES-256-GCM");
    return cipher;
}

}  // namespace

SecretKey::~SecretKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

void wipe(std::string& secret) noexcept {
    if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
    secret.clear();
}

void generate_key(SecretKey& key) {
    if (RAND_bytes(key.data(), SecretKey::size) != 1)
        fail(sqlstate::internal_error, "claudable: could not generate a random key");
}

std::string key_fingerprint(const SecretKey& key) {
    static constexpr char label[] = "claudable key fingerprint v1";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_length = 0;
    if (HMAC(EVP_sha256(), key.data(), SecretKey::size, reinterpret_cast<const unsigned char*>(label),
             sizeof label - 1, mac, &mac_length) == nullptr)
        fail(sqlstate::internal_error, "claudable: could not compute the key fingerprint");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < 16; ++i) {
        out += hex[mac[i] >> 4];
        out += hex[mac[i] & 0x0f];
    }
    return out;
}

bool read_key_file(const std::string& path, SecretKey& key) {
    UniqueFd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)};
    if (file.fd < 0) {
        if (errno == ENOENT) return false;
        key_file_failure("cannot open", path, errno);
    }
    struct stat st {};
    if (::fstat(file.fd, &st) != 0) key_file_failure("cannot stat", path, errno);
    if (!S_ISREG(st.st_mode))
        fail(sqlstate::config_file_error, "claudable: key file \"" + path + "\" is not a regular file");
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        fail(sqlstate::config_file_error, "claudable: key file \"" + path + "\" has group or world access",
             {}, "Run chmod 600 on it.");
    char text[key_file_chars + 2] = {};
    ssize_t got = ::read(file.fd, text, sizeof text);
    if (got < 0) key_file_failure("cannot read", path, errno);
    std::size_t length = static_cast<std::size_t>(got);
    if (length > 0 && text[length - 1] == '\n') --length;
    bool well_formed = length == key_file_chars;
    for (std::size_t i = 0; well_formed && i < SecretKey::size; ++i) {
        int high = hex_value(text[2 * i]), low = hex_value(text[2 * i + 1]);
        well_formed = high >= 0 && low >= 0;
        if (well_formed) key.data()[i] = static_cast<unsigned char>(high << 4 | low);
    }
    OPENSSL_cleanse(text, sizeof text);
    if (!well_formed)
        fail(sqlstate::config_file_error, "claudable: key file \"" + path + "\" is not 64 hexadecimal characters",
             {}, "Restore the key file from where it is kept; without it stored passwords cannot be read.");
    return true;
}

void write_key_file(const std::string& path, const SecretKey& key, bool replace) {
    static constexpr char hex[] = "0123456789abcdef";
    char text[key_file_chars + 1];
    for (std::size_t i = 0; i < SecretKey::size; ++i) {
        text[2 * i] = hex[key.data()[i] >> 4];
        text[2 * i + 1] = hex[key.data()[i] & 0x0f];
    }
    text[key_file_chars] = '\n';
    // Written beside the target under an unguessable name, created here (O_EXCL: never a
    // file someone else made, with its owner and mode) and never through a symlink, then
    // linked (or renamed) into place: a reader never sees half a key, and link() lets
    // exactly one of two concurrent writers win.
    refuse_shared_directory(path);
    const std::string temporary = temporary_name(path);
    {
        UniqueFd file{::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, S_IRUSR | S_IWUSR)};
        if (file.fd < 0) {
            OPENSSL_cleanse(text, sizeof text);
            key_file_failure("cannot create", temporary, errno);
        }
        bool written = ::fchmod(file.fd, S_IRUSR | S_IWUSR) == 0 &&  // 0600 whatever the umask
                       ::write(file.fd, text, sizeof text) == static_cast<ssize_t>(sizeof text) &&
                       ::fsync(file.fd) == 0;
        int err = errno;
        OPENSSL_cleanse(text, sizeof text);
        if (!written) {
            ::unlink(temporary.c_str());
            key_file_failure("cannot write", temporary, err);
        }
    }
    if (replace) {
        rename_durably(temporary, path);
        return;
    }
    int linked = ::link(temporary.c_str(), path.c_str());
    int err = errno;
    ::unlink(temporary.c_str());
    if (linked != 0) key_file_failure(err == EEXIST ? "will not overwrite" : "cannot create", path, err);
    fsync_directory_of(path);
}

void rename_durably(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        int err = errno;
        ::unlink(from.c_str());
        key_file_failure("cannot rename into place", to, err);
    }
    fsync_directory_of(to);
}

std::string seal(const SecretKey& key, std::string_view plaintext, std::string_view context) {
    std::string box(1 + nonce_size + plaintext.size() + tag_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(box.data());
    out[0] = box_version;
    unsigned char* nonce = out + 1;
    unsigned char* cipher = nonce + nonce_size;
    if (RAND_bytes(nonce, nonce_size) != 1) fail(sqlstate::internal_error, "claudable: could not generate a nonce");

    CipherContext c;
    int length = 0;
    bool ok = c.ctx != nullptr &&
              EVP_EncryptInit_ex(c.ctx, aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) == 1 &&
              EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, key.data(), nonce) == 1 &&
              EVP_EncryptUpdate(c.ctx, nullptr, &length, bytes(context), static_cast<int>(context.size())) == 1 &&
              EVP_EncryptUpdate(c.ctx, cipher, &length, bytes(plaintext), static_cast<int>(plaintext.size())) == 1 &&
              EVP_EncryptFinal_ex(c.ctx, cipher + length, &length) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, tag_size, cipher + plaintext.size()) == 1;
    if (!ok) fail(sqlstate::internal_error, "claudable: encryption failed");
    return box;
}

std::string open_sealed(const SecretKey& key, std::string_view box, std::string_view context) {
    const std::string hint = "The key matches the recorded fingerprint, so the stored value itself is damaged: "
                             "restore claudable.projects from a backup, or rotate the project's password.";
    if (box.size() < 1 + nonce_size + tag_size || static_cast<unsigned char>(box[0]) != box_version)
        fail(sqlstate::data_corrupted, "claudable: stored password has an unknown format", {}, hint);
    const unsigned char* nonce = bytes(box) + 1;
    const unsigned char* cipher = nonce + nonce_size;
    const std::size_t cipher_size = box.size() - 1 - nonce_size - tag_size;
    std::string plaintext(cipher_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(plaintext.data());

    CipherContext c;
    int length = 0;
    bool ok = c.ctx != nullptr &&
              EVP_DecryptInit_ex(c.ctx, aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) == 1 &&
              EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, key.data(), nonce) == 1 &&
              EVP_DecryptUpdate(c.ctx, nullptr, &length, bytes(context), static_cast<int>(context.size())) == 1 &&
              EVP_DecryptUpdate(c.ctx, out, &length, cipher, static_cast<int>(cipher_size)) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, tag_size,
                                  const_cast<unsigned char*>(cipher + cipher_size)) == 1 &&
              EVP_DecryptFinal_ex(c.ctx, out + length, &length) == 1;
    if (!ok) {
        wipe(plaintext);
        fail(sqlstate::data_corrupted, "claudable: stored password could not be decrypted", {}, hint);
    }
    return plaintext;
}

}  // namespace claudable
