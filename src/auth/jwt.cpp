#include "auth/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <unordered_set>
#include <utility>

#include "core/id.hpp"
#include "crypto/crypto.hpp"

namespace hub::auth {

using json = nlohmann::json;

namespace {

// ---- OpenSSL helpers ------------------------------------------------------------------------

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
    void operator()(BIO* p) const { BIO_free(p); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnFree {
    void operator()(BIGNUM* p) const { BN_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

// Drains OpenSSL's per-thread error queue into a log-only string.
std::string OpenSslErrors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

core::Error BadKey(std::string detail) {
    return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_key",
                             "invalid signing key", std::move(detail) + " " + OpenSslErrors());
}

core::Error Internal(std::string detail) {
    return core::Error::Make(core::ErrorCode::kInternal, "", "internal error",
                             std::move(detail) + " " + OpenSslErrors());
}

// Never prompt for a passphrase: encrypted PEMs simply fail to load.
int NoPassphrase(char*, int, int, void*) { return 0; }

BioPtr MemBio(std::string_view text) {
    return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string BioText(BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

PkeyPtr ReadPrivate(std::string_view pem) {
    BioPtr bio = MemBio(pem);
    if (!bio) return nullptr;
    return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
}

PkeyPtr ReadPublic(std::string_view pem) {
    BioPtr bio = MemBio(pem);
    if (!bio) return nullptr;
    return PkeyPtr(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
}

std::string WritePublic(EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return {};
    return BioText(bio.get());
}

std::string WritePrivate(EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return {};
    }
    return BioText(bio.get());
}

bool IsAcceptableRsa(EVP_PKEY* key) {
    return EVP_PKEY_is_a(key, "RSA") == 1 && EVP_PKEY_get_bits(key) >= kRsaKeyBits;
}

std::string BnParam(EVP_PKEY* key, const char* name) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return {};
    BnPtr bn(raw);
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
    BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

std::string SignRs256(EVP_PKEY* key, std::string_view data) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    std::size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
        return {};
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
        return {};
    }
    sig.resize(len);
    return sig;
}

bool VerifyRs256(EVP_PKEY* key, std::string_view data, std::string_view sig) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    bool ok =
        ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    ERR_clear_error();  // a failed verification leaves errors on the thread's queue
    return ok;
}

std::int64_t EpochSeconds(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::int64_t EpochMs(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Thumbprint input per RFC 7638: required members only, lexicographic order, no whitespace.
std::string Thumbprint(const std::string& n_b64, const std::string& e_b64) {
    std::string canonical = R"({"e":")" + e_b64 + R"(","kty":"RSA","n":")" + n_b64 + R"("})";
    return crypto::Base64UrlEncode(crypto::Sha256(canonical));
}

// Strict base64url: no padding, canonical trailing bits.
std::optional<std::string> StrictB64UrlDecode(std::string_view text) {
    auto raw = crypto::Base64UrlDecode(text);
    if (!raw || crypto::Base64UrlEncode(*raw) != text) return std::nullopt;
    return raw;
}

// "JWT", compared case-insensitively as RFC 7519 §5.1 recommends.
bool IsJwtTyp(std::string_view typ) {
    return typ.size() == 3 && (typ[0] | 0x20) == 'j' && (typ[1] | 0x20) == 'w' &&
           (typ[2] | 0x20) == 't';
}

std::optional<json> ParseObject(std::string_view text) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    return j;
}

}  // namespace

// ---- Key material ---------------------------------------------------------------------------

core::Result<RsaKeyPairPem> GenerateRsaKeyPair(int bits) {
    if (bits < kRsaKeyBits || bits > 16384) {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_key",
                                 "RSA key size must be at least 2048 bits");
    }
    PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
    if (!key) return Internal("RSA key generation failed");
    RsaKeyPairPem out;
    std::string priv = WritePrivate(key.get());
    out.public_pem = WritePublic(key.get());
    if (priv.empty() || out.public_pem.empty()) return Internal("PEM encoding failed");
    out.private_pem = core::Secret<std::string>(std::move(priv));
    return out;
}

core::Result<SigningKey> NewSigningKey(TimePoint now, int bits) {
    auto pair = GenerateRsaKeyPair(bits);
    if (!pair) return pair.error();
    SigningKey key;
    key.private_pem = std::move(pair->private_pem);
    key.public_pem = std::move(pair->public_pem);
    key.created_at = EpochSeconds(now);
    auto kid = RsaThumbprint(key.public_pem);
    if (!kid) return kid.error();
    key.kid = std::move(*kid);
    return key;
}

core::Result<std::string> RsaThumbprint(std::string_view public_pem) {
    PkeyPtr key = ReadPublic(public_pem);
    if (!key || !IsAcceptableRsa(key.get())) return BadKey("public key PEM rejected");
    std::string n = BnParam(key.get(), OSSL_PKEY_PARAM_RSA_N);
    std::string e = BnParam(key.get(), OSSL_PKEY_PARAM_RSA_E);
    if (n.empty() || e.empty()) return BadKey("RSA parameters unreadable");
    return Thumbprint(crypto::Base64UrlEncode(n), crypto::Base64UrlEncode(e));
}

// ---- KeyRing --------------------------------------------------------------------------------

struct KeyRing::LoadedKey {
    SigningKey meta;                 // kid and public_pem always filled
    std::shared_ptr<EVP_PKEY> pub;   // always set
    std::shared_ptr<EVP_PKEY> priv;  // null for verify-only keys
    std::string n_b64;
    std::string e_b64;
    std::size_t signature_bytes = 0;
    std::uint64_t seq = 0;  // insertion order, breaks created_at ties
};

struct KeyRing::Impl {
    KeyRingOptions options;
    mutable std::shared_mutex mu;
    std::vector<std::shared_ptr<const LoadedKey>> keys;
    std::uint64_t next_seq = 0;

    // Parses and checks a key; no lock needed.
    static core::Result<std::shared_ptr<LoadedKey>> Load(SigningKey key) {
        auto loaded = std::make_shared<LoadedKey>();
        PkeyPtr priv;
        if (!key.private_pem.empty()) {
            priv = ReadPrivate(key.private_pem.Reveal());
            if (!priv) return BadKey("private key PEM does not parse");
            if (!IsAcceptableRsa(priv.get())) return BadKey("private key is not RSA >= 2048");
        }
        PkeyPtr pub;
        if (!key.public_pem.empty()) {
            pub = ReadPublic(key.public_pem);
            if (!pub) return BadKey("public key PEM does not parse");
            if (!IsAcceptableRsa(pub.get())) return BadKey("public key is not RSA >= 2048");
            if (priv && EVP_PKEY_eq(pub.get(), priv.get()) != 1) {
                return BadKey("public key does not match the private key");
            }
        } else if (priv) {
            key.public_pem = WritePublic(priv.get());
            pub = ReadPublic(key.public_pem);
            if (!pub) return Internal("deriving the public key failed");
        } else {
            return BadKey("a signing key needs a private or a public PEM");
        }
        loaded->n_b64 = crypto::Base64UrlEncode(BnParam(pub.get(), OSSL_PKEY_PARAM_RSA_N));
        loaded->e_b64 = crypto::Base64UrlEncode(BnParam(pub.get(), OSSL_PKEY_PARAM_RSA_E));
        if (loaded->n_b64.empty() || loaded->e_b64.empty()) {
            return BadKey("RSA parameters unreadable");
        }
        loaded->signature_bytes = static_cast<std::size_t>(EVP_PKEY_get_size(pub.get()));
        if (key.kid.empty()) key.kid = Thumbprint(loaded->n_b64, loaded->e_b64);
        if (key.kid.size() > 256) return BadKey("kid longer than 256 characters");
        loaded->pub = std::shared_ptr<EVP_PKEY>(pub.release(), PkeyFree());
        if (priv) loaded->priv = std::shared_ptr<EVP_PKEY>(priv.release(), PkeyFree());
        loaded->meta = std::move(key);
        return loaded;
    }

    // Caller holds mu exclusively.
    core::Result<std::string> InsertLocked(std::shared_ptr<LoadedKey> key) {
        for (const auto& k : keys) {
            if (k->meta.kid == key->meta.kid) {
                return core::Error::Make(core::ErrorCode::kConflict, "duplicate_kid",
                                         "a key with this id already exists",
                                         "kid " + key->meta.kid);
            }
        }
        key->seq = next_seq++;
        std::string kid = key->meta.kid;
        keys.push_back(std::move(key));
        return kid;
    }

    // Caller holds mu (shared or exclusive).
    std::shared_ptr<const LoadedKey> ActiveLocked() const {
        std::shared_ptr<const LoadedKey> best;
        for (const auto& k : keys) {
            if (!k->priv || k->meta.retired_at) continue;
            if (!best || k->meta.created_at > best->meta.created_at ||
                (k->meta.created_at == best->meta.created_at && k->seq > best->seq)) {
                best = k;
            }
        }
        return best;
    }

    bool PublishedLocked(const SigningKey& meta, TimePoint now) const {
        if (!meta.retired_at) return true;
        // Subtracted from now, not added to retired_at (from the key file, any int64).
        return EpochSeconds(now) - options.max_token_ttl.count() - options.leeway.count() <
               *meta.retired_at;
    }
};

KeyRing::KeyRing(KeyRingOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = options;
}
KeyRing::~KeyRing() = default;
KeyRing::KeyRing(KeyRing&&) noexcept = default;
KeyRing& KeyRing::operator=(KeyRing&&) noexcept = default;

const KeyRingOptions& KeyRing::options() const { return impl_->options; }

core::Result<std::string> KeyRing::Add(SigningKey key) {
    auto loaded = Impl::Load(std::move(key));
    if (!loaded) return loaded.error();
    std::unique_lock lock(impl_->mu);
    return impl_->InsertLocked(std::move(*loaded));
}

core::Result<std::string> KeyRing::Rotate(SigningKey key, TimePoint now) {
    if (key.private_pem.empty()) {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_key",
                                 "the new signing key needs a private key");
    }
    if (key.created_at == 0) key.created_at = EpochSeconds(now);
    key.retired_at.reset();
    auto loaded = Impl::Load(std::move(key));
    if (!loaded) return loaded.error();

    std::unique_lock lock(impl_->mu);
    for (const auto& k : impl_->keys) {
        if (k->meta.kid == (*loaded)->meta.kid) {
            return core::Error::Make(core::ErrorCode::kConflict, "duplicate_kid",
                                     "a key with this id already exists");
        }
    }
    std::int64_t now_s = EpochSeconds(now);
    for (auto& k : impl_->keys) {
        if (k->meta.retired_at) continue;
        auto retired = std::make_shared<LoadedKey>(*k);  // keys are immutable once shared
        retired->meta.retired_at = now_s;
        k = std::move(retired);
    }
    return impl_->InsertLocked(std::move(*loaded));
}

core::Result<std::string> KeyRing::Rotate(TimePoint now) {
    auto key = NewSigningKey(now);
    if (!key) return key.error();
    return Rotate(std::move(*key), now);
}

std::optional<std::string> KeyRing::ActiveKid() const {
    auto active = Active();
    if (!active) return std::nullopt;
    return active->meta.kid;
}

std::vector<KeyInfo> KeyRing::Keys() const {
    std::shared_lock lock(impl_->mu);
    auto active = impl_->ActiveLocked();
    std::vector<KeyInfo> out;
    out.reserve(impl_->keys.size());
    for (const auto& k : impl_->keys) {
        out.push_back(KeyInfo{k->meta.kid, k->meta.public_pem, k->meta.created_at,
                              k->meta.retired_at, k->priv != nullptr, k == active});
    }
    return out;
}

std::size_t KeyRing::size() const {
    std::shared_lock lock(impl_->mu);
    return impl_->keys.size();
}

bool KeyRing::IsPublished(const KeyInfo& key, TimePoint now) const {
    SigningKey meta;
    meta.retired_at = key.retired_at;
    return impl_->PublishedLocked(meta, now);  // reads only the immutable options
}

std::string KeyRing::JwksJson(TimePoint now) const {
    json keys = json::array();
    std::shared_lock lock(impl_->mu);
    for (const auto& k : impl_->keys) {
        if (!impl_->PublishedLocked(k->meta, now)) continue;
        keys.push_back(json{{"kty", "RSA"},
                            {"use", "sig"},
                            {"alg", "RS256"},
                            {"kid", k->meta.kid},
                            {"n", k->n_b64},
                            {"e", k->e_b64}});
    }
    return json{{"keys", std::move(keys)}}.dump();
}

std::vector<std::string> KeyRing::Prune(TimePoint now) {
    std::vector<std::string> removed;
    std::unique_lock lock(impl_->mu);
    auto active = impl_->ActiveLocked();
    auto& keys = impl_->keys;
    keys.erase(std::remove_if(keys.begin(), keys.end(),
                              [&](const std::shared_ptr<const LoadedKey>& k) {
                                  if (k == active || impl_->PublishedLocked(k->meta, now)) {
                                      return false;
                                  }
                                  removed.push_back(k->meta.kid);
                                  return true;
                              }),
               keys.end());
    return removed;
}

core::Secret<std::string> KeyRing::Serialize() const {
    json keys = json::array();
    std::shared_lock lock(impl_->mu);
    for (const auto& k : impl_->keys) {
        json entry{{"kid", k->meta.kid},
                   {"private_pem", k->meta.private_pem.Reveal()},
                   {"public_pem", k->meta.public_pem},
                   {"created_at", k->meta.created_at},
                   {"retired_at", nullptr}};
        if (k->meta.retired_at) entry["retired_at"] = *k->meta.retired_at;
        keys.push_back(std::move(entry));
    }
    return core::Secret<std::string>(json{{"version", 1}, {"keys", std::move(keys)}}.dump(2));
}

core::Result<KeyRing> KeyRing::Deserialize(std::string_view text, KeyRingOptions options) {
    auto bad = [](std::string detail) {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_key_ring",
                                 "the JWT key ring file is not valid", std::move(detail));
    };
    auto doc = ParseObject(text);
    if (!doc) return bad("not a JSON object");
    auto version = doc->find("version");
    if (version == doc->end() || !version->is_number_integer() || *version != 1) {
        return bad("unsupported version");
    }
    auto keys = doc->find("keys");
    if (keys == doc->end() || !keys->is_array()) return bad("keys is not an array");

    KeyRing ring(options);
    for (const auto& entry : *keys) {
        if (!entry.is_object()) return bad("a key entry is not an object");
        SigningKey key;
        auto str = [&](const char* name, std::string& out) {
            auto it = entry.find(name);
            if (it == entry.end() || it->is_null()) return true;
            if (!it->is_string()) return false;
            out = it->get<std::string>();
            return true;
        };
        std::string priv;
        if (!str("kid", key.kid) || !str("private_pem", priv) ||
            !str("public_pem", key.public_pem)) {
            return bad("a key field has the wrong type");
        }
        key.private_pem = core::Secret<std::string>(std::move(priv));
        auto created = entry.find("created_at");
        if (created == entry.end() || !created->is_number_integer()) {
            return bad("created_at missing");
        }
        key.created_at = created->get<std::int64_t>();
        auto retired = entry.find("retired_at");
        if (retired != entry.end() && !retired->is_null()) {
            if (!retired->is_number_integer()) return bad("retired_at is not an integer");
            key.retired_at = retired->get<std::int64_t>();
        }
        auto added = ring.Add(std::move(key));
        if (!added) {
            core::Error e = added.error();
            e.api_code = "invalid_key_ring";
            e.public_message = "the JWT key ring file is not valid";
            return e;
        }
    }
    return ring;
}

core::Result<void> KeyRing::Reload(std::string_view json) {
    auto fresh = Deserialize(json, impl_->options);
    if (!fresh) return fresh.error();
    std::unique_lock lock(impl_->mu);
    std::unique_lock fresh_lock(fresh->impl_->mu);
    impl_->keys = std::move(fresh->impl_->keys);
    impl_->next_seq = fresh->impl_->next_seq;
    return core::Ok();
}

std::shared_ptr<const KeyRing::LoadedKey> KeyRing::Find(std::string_view kid) const {
    std::shared_lock lock(impl_->mu);
    for (const auto& k : impl_->keys) {
        if (k->meta.kid == kid) return k;
    }
    return nullptr;
}

std::shared_ptr<const KeyRing::LoadedKey> KeyRing::Active() const {
    std::shared_lock lock(impl_->mu);
    return impl_->ActiveLocked();
}

// ---- JwtCodec -------------------------------------------------------------------------------

std::string_view JwtErrorName(JwtError e) {
    switch (e) {
        case JwtError::kMalformed:
            return "malformed";
        case JwtError::kBadSignature:
            return "bad_signature";
        case JwtError::kUnknownKid:
            return "unknown_kid";
        case JwtError::kExpired:
            return "expired";
        case JwtError::kNotYetValid:
            return "not_yet_valid";
        case JwtError::kWrongIssuer:
            return "wrong_issuer";
        case JwtError::kWrongAudience:
            return "wrong_audience";
        case JwtError::kAlgNotAllowed:
            return "alg_not_allowed";
    }
    return "unknown";
}

core::Result<JwtCodec> JwtCodec::Create(const KeyRing& ring, JwtOptions options) {
    auto bad = [](std::string detail) {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_config",
                                 "invalid JWT configuration", std::move(detail));
    };
    if (options.issuer.empty()) return bad("issuer is empty");
    if (options.audience.empty()) return bad("audience is empty");
    if (options.ttl.count() <= 0 || options.ttl > ring.options().max_token_ttl) {
        return bad("ttl must be positive and at most the key ring's max_token_ttl");
    }
    return JwtCodec(ring, std::move(options));
}

core::Result<SignedToken> JwtCodec::Sign(const TokenRequest& request, TimePoint now) const {
    std::chrono::seconds ttl = request.ttl.value_or(options_.ttl);
    if (ttl.count() <= 0 || ttl > ring_->options().max_token_ttl) {
        return core::Error::Make(core::ErrorCode::kInternal, "", "internal error",
                                 "token ttl outside (0, max_token_ttl]");
    }
    if (request.sub.empty() || request.role.empty() || request.sid.empty()) {
        return core::Error::Make(core::ErrorCode::kInternal, "", "internal error",
                                 "token request lacks sub, role or sid");
    }
    auto key = ring_->Active();
    if (!key) {
        return core::Error::Make(core::ErrorCode::kInternal, "", "internal error",
                                 "no active signing key in the key ring");
    }

    SignedToken out;
    out.kid = key->meta.kid;
    AccessClaims& c = out.claims;
    c.iss = options_.issuer;
    c.aud = options_.audience;
    c.sub = request.sub;
    c.role = request.role;
    c.sid = request.sid;
    c.jti = core::NewIdAt(EpochMs(now));
    c.iat = EpochSeconds(now);
    c.nbf = c.iat;
    c.exp = c.iat + ttl.count();

    json header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", key->meta.kid}};
    json payload{{"iss", c.iss}, {"aud", c.aud}, {"sub", c.sub}, {"role", c.role}, {"sid", c.sid},
                 {"jti", c.jti}, {"iat", c.iat}, {"nbf", c.nbf}, {"exp", c.exp}};
    std::string signing_input =
        crypto::Base64UrlEncode(header.dump()) + "." + crypto::Base64UrlEncode(payload.dump());
    std::string sig = SignRs256(key->priv.get(), signing_input);
    if (sig.empty()) return Internal("RS256 signing failed");
    out.token = std::move(signing_input) + "." + crypto::Base64UrlEncode(sig);
    return out;
}

class JwtCodec::VerifiedCache {
public:
    bool Contains(std::string_view token) const {
        std::lock_guard lock(mu_);
        return set_.count(token) != 0;
    }
    void Add(std::string_view token) {
        std::lock_guard lock(mu_);
        if (set_.count(token)) return;
        if (order_.size() >= kVerifiedCacheSize) {
            set_.erase(std::string_view(order_.front()));
            order_.pop_front();
        }
        order_.emplace_back(token);
        set_.insert(std::string_view(order_.back()));  // views the deque's string (stable)
    }

private:
    mutable std::mutex mu_;
    std::deque<std::string> order_;
    std::unordered_set<std::string_view> set_;
};

JwtCodec::JwtCodec(const KeyRing& ring, JwtOptions options)
    : ring_(&ring), options_(std::move(options)), verified_(std::make_shared<VerifiedCache>()) {}

core::Result<AccessClaims> JwtCodec::Verify(std::string_view token, TimePoint now,
                                            JwtError* reason) const {
    auto fail = [reason](JwtError why, const std::string& detail) {
        if (reason != nullptr) *reason = why;
        bool expired = why == JwtError::kExpired;
        return core::Error::Make(core::ErrorCode::kUnauthenticated,
                                 expired ? "token_expired" : "invalid_token",
                                 expired ? "access token expired" : "invalid access token",
                                 "jwt " + std::string(JwtErrorName(why)) + ": " + detail);
    };

    if (token.empty() || token.size() > kMaxJwtLength) {
        return fail(JwtError::kMalformed, "empty or oversized token");
    }
    std::size_t dot1 = token.find('.');
    std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
        return fail(JwtError::kMalformed, "not three segments");
    }
    std::string_view header_b64 = token.substr(0, dot1);
    std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    std::string_view sig_b64 = token.substr(dot2 + 1);

    auto header_text = StrictB64UrlDecode(header_b64);
    if (!header_text || header_b64.empty()) return fail(JwtError::kMalformed, "header encoding");
    auto header = ParseObject(*header_text);
    if (!header) return fail(JwtError::kMalformed, "header is not a JSON object");

    auto alg = header->find("alg");
    if (alg == header->end() || !alg->is_string()) {
        return fail(JwtError::kMalformed, "header lacks alg");
    }
    if (alg->get_ref<const std::string&>() != "RS256") {
        return fail(JwtError::kAlgNotAllowed, "alg " + alg->dump().substr(0, 40));  // escaped
    }
    if (header->contains("crit")) return fail(JwtError::kMalformed, "crit header present");
    auto typ = header->find("typ");
    if (typ != header->end() &&
        (!typ->is_string() || !IsJwtTyp(typ->get_ref<const std::string&>()))) {
        return fail(JwtError::kMalformed, "typ is not JWT");
    }
    auto kid = header->find("kid");
    if (kid == header->end() || !kid->is_string()) return fail(JwtError::kUnknownKid, "no kid");
    auto key = ring_->Find(kid->get_ref<const std::string&>());
    if (!key) return fail(JwtError::kUnknownKid, "kid not in the key ring");

    if (sig_b64.empty()) return fail(JwtError::kMalformed, "signature missing");
    auto sig = StrictB64UrlDecode(sig_b64);
    if (!sig) return fail(JwtError::kMalformed, "signature encoding");
    if (sig->size() != key->signature_bytes) {
        return fail(JwtError::kBadSignature, "signature length");
    }
    if (!verified_->Contains(token)) {
        if (!VerifyRs256(key->pub.get(), token.substr(0, dot2), *sig)) {
            return fail(JwtError::kBadSignature, "signature does not verify");
        }
        verified_->Add(token);
    }

    // Only now, with the signature checked, is the payload looked at.
    auto payload_text = StrictB64UrlDecode(payload_b64);
    if (!payload_text) return fail(JwtError::kMalformed, "payload encoding");
    auto payload = ParseObject(*payload_text);
    if (!payload) return fail(JwtError::kMalformed, "payload is not a JSON object");

    AccessClaims c;
    auto get_str = [&](const char* name, std::string& out) {
        auto it = payload->find(name);
        if (it == payload->end() || !it->is_string()) return false;
        out = it->get<std::string>();
        return true;
    };
    auto get_time = [&](const char* name, std::int64_t& out, bool required) {
        auto it = payload->find(name);
        if (it == payload->end()) return !required;
        if (it->is_number_integer()) {
            out = it->get<std::int64_t>();
            return true;
        }
        if (it->is_number_float()) {
            double v = it->get<double>();
            if (!(v > -1e15 && v < 1e15)) return false;
            out = static_cast<std::int64_t>(v);
            return true;
        }
        return false;
    };

    if (!get_str("iss", c.iss)) return fail(JwtError::kWrongIssuer, "iss missing");
    if (c.iss != options_.issuer) return fail(JwtError::kWrongIssuer, "iss " + c.iss);

    auto aud = payload->find("aud");
    bool aud_ok = false;
    if (aud != payload->end() && aud->is_string()) {
        aud_ok = aud->get_ref<const std::string&>() == options_.audience;
    } else if (aud != payload->end() && aud->is_array()) {
        for (const auto& a : *aud) aud_ok = aud_ok || (a.is_string() && a == options_.audience);
    }
    if (!aud_ok) return fail(JwtError::kWrongAudience, "aud does not name this service");
    c.aud = options_.audience;

    if (!get_time("exp", c.exp, true) || !get_time("nbf", c.nbf, false) ||
        !get_time("iat", c.iat, false)) {
        return fail(JwtError::kMalformed, "exp, nbf or iat missing or not a number");
    }
    std::int64_t now_s = EpochSeconds(now);
    std::int64_t leeway = ring_->options().leeway.count();
    // now_s - leeway, not exp + leeway: exp is the token's and may be near the int64 limit.
    if (now_s - leeway >= c.exp) return fail(JwtError::kExpired, "exp passed");
    if (payload->contains("nbf") && now_s + leeway < c.nbf) {
        return fail(JwtError::kNotYetValid, "nbf in the future");
    }
    if (!get_str("sub", c.sub) || !get_str("role", c.role) || !get_str("sid", c.sid) ||
        !get_str("jti", c.jti) || c.sub.empty() || c.sid.empty()) {
        return fail(JwtError::kMalformed, "sub, role, sid or jti missing");
    }
    return c;
}

}  // namespace hub::auth
